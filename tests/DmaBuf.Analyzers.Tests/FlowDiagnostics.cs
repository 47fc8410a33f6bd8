// Runs the flow analyzer over a compilation of its own and returns its diagnostics, for the tests that check what
// markup cannot (properties, the text at a location or additional location).
using System;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;

namespace DmaBuf.Analyzers.Tests;

/// <summary>Runs <see cref="Rules.DmaBufFlowAnalyzer"/> directly, for what <see cref="DiagnosticResult"/> cannot check (properties).</summary>
internal static class FlowDiagnostics
{
    private static readonly ImmutableArray<MetadataReference> References = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
        .Split(Path.PathSeparator)
        .Where(path => Path.GetFileName(path).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(path) is "mscorlib.dll" or "netstandard.dll")
        .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
        .Append(MetadataReference.CreateFromFile(typeof(DmaBuffer).Assembly.Location))
        .ToImmutableArray();

    public static async Task<ImmutableArray<Diagnostic>> AnalyzeAsync(string source)
    {
        var compilation = CSharpCompilation.Create(
            "FlowDiagnostics",
            new[] { CSharpSyntaxTree.ParseText(source, path: "/0/Test0.cs") },
            References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
        var analyzers = ImmutableArray.Create<DiagnosticAnalyzer>(new Rules.DmaBufFlowAnalyzer());
        return await compilation.WithAnalyzers(analyzers).GetAnalyzerDiagnosticsAsync();
    }

    public static string Text(Location location) => location.SourceTree!.GetText().ToString(location.SourceSpan);

    public static string? AdditionalText(Diagnostic diagnostic) =>
        diagnostic.AdditionalLocations.Count > 0 ? Text(diagnostic.AdditionalLocations[0]) : null;
}
