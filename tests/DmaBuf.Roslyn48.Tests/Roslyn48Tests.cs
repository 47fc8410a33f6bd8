// The analyzers and code fixes as built, run by Roslyn 4.8.0 in process: they load, report the sample's diagnostics,
// every code fix provider is found the way a host finds it, and a fix applies.
using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using MetadataReader = System.Reflection.Metadata.MetadataReader;
using System.Reflection.PortableExecutable;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace DmaBuf.Roslyn48.Tests;

public sealed class Roslyn48Tests
{
    // One method per rule that the sample shows, each wrong in one way.
    private const string Sample = """
        using System.Threading;
        using DmaBuf;

        public static class Sample
        {
            public static int EarlyReturn(DmaBuffer buf, bool empty)
            {
                buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
                if (empty)
                {
                    return 0;
                }

                buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
                return 1;
            }

            public static byte NoAccess()
            {
                DmaBuffer buf = DmaBuffer.Export(new SystemHeapExporter(), DmaBuffer.PageSize);
                var page = buf.Kmap(0);
                byte first = page.Span[0];
                buf.Kunmap(0, page);
                buf.Put();
                return first;
            }

            public static void SleepsWhileAtomic(DmaBuffer buf)
            {
                using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice))
                using (var page = buf.KmapAtomic(0))
                {
                    Thread.Sleep(1);
                }
            }
        }
        """;

    private static readonly ImmutableArray<MetadataReference> References = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
        .Split(Path.PathSeparator)
        .Where(path => Path.GetFileName(path) is var name && (name.StartsWith("System.", StringComparison.Ordinal) || name is "netstandard.dll" or "mscorlib.dll"))
        .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
        .Append(MetadataReference.CreateFromFile(typeof(DmaBuffer).Assembly.Location))
        .ToImmutableArray();

    private static ComponentLoadContext Components => ComponentLoadContext.Instance;

    [Fact]
    public void TheHostIsRoslyn48AndTheComponentsAreTheBuiltOnes()
    {
        Assert.Equal(new Version(4, 8, 0, 0), typeof(Compilation).Assembly.GetName().Version);
        Assert.Same(Components, AssemblyLoadContext(Components.Analyzers));
        Assert.Same(Components, AssemblyLoadContext(Components.CodeFixes));
        Assert.StartsWith(ComponentLoadContext.Directory, Components.CodeFixes.Location, StringComparison.Ordinal);
        // Roslyn comes from the host: the components bind to its 4.8.0, not to a copy of their own.
        Assert.All(Components.CreateAnalyzers(), a => Assert.Same(typeof(DiagnosticAnalyzer), RootBase(a.GetType())));
        Assert.All(Components.CreateFixers(), f => Assert.Same(typeof(CodeFixProvider), RootBase(f.GetType())));
    }

    [Fact]
    public async Task TheAnalyzersReportTheSampleDiagnostics()
    {
        ImmutableArray<Diagnostic> diagnostics = await AnalyzeAsync(Compile(Sample));

        Assert.Equal(
            new[] { ("DMA0001", 11), ("DMA0005", 33), ("DMA0007", 21) },
            diagnostics.Select(d => (d.Id, d.Location.GetLineSpan().StartLinePosition.Line + 1)).OrderBy(d => d.Id).ToArray());
        Assert.All(diagnostics, d => Assert.StartsWith("https://", d.Descriptor.HelpLinkUri, StringComparison.Ordinal));
    }

    [Fact]
    public void EachCodeFixProviderIsFoundAndCoversEveryRuleThatHasAFix()
    {
        Type[] providerTypes = Components.CodeFixes.GetTypes().Where(t => !t.IsAbstract && typeof(CodeFixProvider).IsAssignableFrom(t)).ToArray();
        ImmutableArray<CodeFixProvider> fixers = Components.CreateFixers();

        Assert.NotEmpty(providerTypes);
        Assert.Equal(providerTypes.Select(t => t.FullName).OrderBy(n => n), fixers.Select(f => f.GetType().FullName).OrderBy(n => n));
        Assert.All(fixers, f => Assert.Contains(LanguageNames.CSharp, f.GetType().GetCustomAttribute<ExportCodeFixProviderAttribute>()!.Languages));
        Assert.All(fixers, f => Assert.NotNull(f.GetFixAllProvider()));

        string[] ruleIds = Components.CreateAnalyzers().SelectMany(a => a.SupportedDiagnostics).Select(d => d.Id).Distinct().ToArray();
        string[] fixable = fixers.SelectMany(f => f.FixableDiagnosticIds).Distinct().ToArray();
        // Every rule has a fix (DMA0008's only for a lock around one field read).
        Assert.Equal(ruleIds.OrderBy(id => id), fixable.OrderBy(id => id));
    }

    [Fact]
    public async Task AFixAppliesInARoslyn48WorkspaceAndRemovesItsDiagnostic()
    {
        using var workspace = new AdhocWorkspace();
        Project project = workspace.AddProject("Consumer", LanguageNames.CSharp)
            .WithMetadataReferences(References)
            .WithCompilationOptions(new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        Document document = project.AddDocument("Sample.cs", SourceText.From(Sample));
        ImmutableArray<Diagnostic> before = await AnalyzeAsync((await document.Project.GetCompilationAsync())!);
        Diagnostic unended = before.Single(d => d.Id == "DMA0001");
        // DMA0001 has several fixes; its first ("Use a CpuAccess scope") is the one every host applies.
        CodeFixProvider fixer = Components.CreateFixers().Single(f => f.FixableDiagnosticIds.Contains("DMA0001") && f.GetType().Name == "UnendedCpuAccessFixer");

        var actions = new List<CodeAction>();
        await fixer.RegisterCodeFixesAsync(new CodeFixContext(document, unended, (action, _) => actions.Add(action), CancellationToken.None));
        Assert.NotEmpty(actions);
        ApplyChangesOperation apply = (await actions[0].GetOperationsAsync(CancellationToken.None)).OfType<ApplyChangesOperation>().Single();
        Compilation fixedCompilation = (await apply.ChangedSolution.GetProject(project.Id)!.GetCompilationAsync())!;

        Assert.Empty(fixedCompilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
        ImmutableArray<Diagnostic> after = await AnalyzeAsync(fixedCompilation);
        Assert.DoesNotContain(after, d => d.Id == "DMA0001");
        Assert.Equal(before.Length - 1, after.Length);
    }

    [Fact]
    public void TheCodeFixesReferenceNoSystemCompositionAndOnlyRoslyn48()
    {
        // The providers carry no [Shared]: hosts create an analyzer package's fixers by reflection, and the attribute
        // would make DmaBuf.CodeFixes.dll reference System.Composition at whatever version restore picked (8.0 from a
        // source without 7.0), which a Roslyn 4.8 host cannot load. [ExportCodeFixProvider] itself is Roslyn's.
        using var stream = File.OpenRead(Components.CodeFixes.Location);
        using var pe = new PEReader(stream);
        MetadataReader metadata = System.Reflection.Metadata.PEReaderExtensions.GetMetadataReader(pe);
        var references = metadata.AssemblyReferences.Select(metadata.GetAssemblyReference)
            .Select(r => (Name: metadata.GetString(r.Name), r.Version)).ToArray();

        Assert.DoesNotContain(references, r => r.Name.StartsWith("System.Composition", StringComparison.Ordinal));
        Assert.Contains(references, r => r.Name == "Microsoft.CodeAnalysis.Workspaces");
        Assert.All(references.Where(r => r.Name.StartsWith("Microsoft.CodeAnalysis", StringComparison.Ordinal)), r => Assert.Equal(new Version(4, 8, 0, 0), r.Version));
    }

    [Fact]
    public void InAHostWhoseSystemCompositionIs7EveryProviderIsFoundAndCreated()
    {
        // Roslyn 4.8 hosts (Visual Studio 17.8, the .NET 8.0.1xx SDK's dotnet format) ship System.Composition 7.0. A
        // host finds a provider by reading its [ExportCodeFixProvider] attribute, which resolves every attribute of
        // the type: a reference to a later System.Composition would throw there and the host would skip the provider.
        var host = new Composition7Host();
        Assembly codeFixes = host.LoadFromAssemblyPath(Components.CodeFixes.Location);
        Type[] providers = codeFixes.GetTypes().Where(t => !t.IsAbstract && typeof(CodeFixProvider).IsAssignableFrom(t)).ToArray();

        Assert.Equal(Components.CreateFixers().Length, providers.Length);
        Assert.All(providers, type =>
        {
            ExportCodeFixProviderAttribute? export = type.GetCustomAttribute<ExportCodeFixProviderAttribute>();
            Assert.NotNull(export);
            Assert.Equal(new[] { LanguageNames.CSharp }, export!.Languages);
            Assert.NotEmpty(((CodeFixProvider)Activator.CreateInstance(type)!).FixableDiagnosticIds);
        });
    }

    /// <summary>A host with Roslyn 4.8 whose System.Composition.AttributedModel is 7.0.0.0: a later version cannot load.</summary>
    private sealed class Composition7Host : System.Runtime.Loader.AssemblyLoadContext
    {
        private static readonly Version Composition7 = new(7, 0, 0, 0);

        public Composition7Host()
            : base("Roslyn 4.8 host with System.Composition 7.0")
        {
        }

        protected override Assembly? Load(AssemblyName assemblyName)
        {
            if (assemblyName.Name == "System.Composition.AttributedModel" && assemblyName.Version > Composition7)
            {
                throw new FileLoadException($"This host has System.Composition.AttributedModel {Composition7} only.", assemblyName.FullName);
            }

            string candidate = Path.Combine(ComponentLoadContext.Directory, assemblyName.Name + ".dll");
            return File.Exists(candidate) ? LoadFromAssemblyPath(candidate) : null;
        }
    }

    private static System.Runtime.Loader.AssemblyLoadContext? AssemblyLoadContext(Assembly assembly) =>
        System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(assembly);

    private static Type RootBase(Type type)
    {
        while (type.BaseType is not null && type.BaseType != typeof(object))
        {
            type = type.BaseType;
        }

        return type;
    }

    private static CSharpCompilation Compile(string source) =>
        CSharpCompilation.Create(
            "Consumer",
            new[] { CSharpSyntaxTree.ParseText(source, path: "Sample.cs") },
            References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    private static async Task<ImmutableArray<Diagnostic>> AnalyzeAsync(Compilation compilation)
    {
        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
        ImmutableArray<Diagnostic> all = await compilation.WithAnalyzers(Components.CreateAnalyzers()).GetAnalyzerDiagnosticsAsync();
        Assert.DoesNotContain(all, d => d.Id == "AD0001");
        return all.Where(d => d.Id.StartsWith("DMA", StringComparison.Ordinal)).ToImmutableArray();
    }
}
