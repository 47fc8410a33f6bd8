// Compiles test code against .NET 8 and DmaBuf.Runtime for the tests that call the blocking analysis directly or run an
// analyzer over it, and finds a method by type and name.
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;

namespace DmaBuf.Analyzers.Tests.Blocking;

/// <summary>Builds a C# compilation over .NET 8 and DmaBuf.Runtime for tests that call the analysis directly.</summary>
internal static class BlockingTestCompilation
{
    public static async Task<CSharpCompilation> CreateAsync(string source, CancellationToken cancellationToken = default)
    {
        ImmutableArray<MetadataReference> references = await ReferenceAssemblies.Net.Net80.ResolveAsync(LanguageNames.CSharp, cancellationToken);
        return CSharpCompilation.Create(
            "BlockingTests",
            new[] { CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest), path: "/0/Test0.cs", cancellationToken: cancellationToken) },
            references.Add(MetadataReference.CreateFromFile(typeof(DmaBuffer).Assembly.Location)),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
    }

    public static async Task<ImmutableArray<Diagnostic>> RunAnalyzerAsync(string source, DiagnosticAnalyzer analyzer)
    {
        CSharpCompilation compilation = await CreateAsync(source);
        var options = new CompilationWithAnalyzersOptions(
            new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty),
            onAnalyzerException: null,
            concurrentAnalysis: true,
            logAnalyzerExecutionTime: false,
            reportSuppressedDiagnostics: false);
        var withAnalyzers = compilation.WithAnalyzers(ImmutableArray.Create(analyzer), options);
        return await withAnalyzers.GetAllDiagnosticsAsync();
    }

    public static IMethodSymbol Method(Compilation compilation, string typeName, string methodName) =>
        compilation.GetTypesByMetadataName(typeName).Single().GetMembers(methodName).OfType<IMethodSymbol>().Single();
}
