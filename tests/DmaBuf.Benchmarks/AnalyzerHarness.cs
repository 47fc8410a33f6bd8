// Builds the synthetic compilations (with or without the runtime) and runs analyzers over them on one thread with
// Roslyn's telemetry: the DMA analyzers, and CA2000 loaded from the NetAnalyzers package folder.
using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using System.Threading;
using DmaBuf.Analyzers.Rules;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace DmaBuf.Benchmarks;

/// <summary>
/// Builds the synthetic compilations and runs analyzers over them with Roslyn's own telemetry
/// (<see cref="CompilationWithAnalyzersOptions"/> with <c>logAnalyzerExecutionTime: true</c>).
/// Compilation and analysis both run on one thread, so that their times compare as work, not as how well they use the cores.
/// </summary>
public static class AnalyzerHarness
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> s_frameworkReferences = new(LoadFrameworkReferences);
    private static readonly Lazy<ImmutableArray<DiagnosticAnalyzer>> s_ca2000 = new(LoadCa2000);

    /// <summary>Every DiagnosticAnalyzer in DmaBuf.Analyzers.dll (DMA0001–DMA0008 and whatever is added later).</summary>
    public static ImmutableArray<DiagnosticAnalyzer> DmaAnalyzers { get; } = typeof(DmaBufFlowAnalyzer).Assembly.GetTypes()
        .Where(t => !t.IsAbstract && typeof(DiagnosticAnalyzer).IsAssignableFrom(t) && t.GetCustomAttribute<DiagnosticAnalyzerAttribute>() is not null)
        .OrderBy(t => t.FullName, StringComparer.Ordinal)
        .Select(t => (DiagnosticAnalyzer)Activator.CreateInstance(t)!)
        .ToImmutableArray();

    /// <summary>The analyzers of Microsoft.CodeAnalysis.NetAnalyzers that report CA2000, loaded from the package.</summary>
    public static ImmutableArray<DiagnosticAnalyzer> Ca2000Analyzers => s_ca2000.Value;

    /// <summary>Parses the sources of a flavour once; compilations are then made fresh from these trees.</summary>
    /// <param name="methods">N.</param>
    /// <param name="flavour">The flavour.</param>
    /// <returns>The trees.</returns>
    public static ImmutableArray<SyntaxTree> Parse(int methods, SourceFlavour flavour)
    {
        var options = new CSharpParseOptions(LanguageVersion.CSharp12);
        return SyntheticSources.Create(methods, flavour)
            .Select((text, i) => CSharpSyntaxTree.ParseText(text, options, path: $"Sim{i}.cs"))
            .ToImmutableArray();
    }

    /// <summary>A fresh compilation of the trees: against DmaBuf.Runtime for the dma-buf flavour, without it for the other.</summary>
    /// <param name="trees">The trees from <see cref="Parse"/>.</param>
    /// <param name="flavour">Their flavour.</param>
    /// <param name="enableCa2000">Turn CA2000 on (it is off by default).</param>
    /// <returns>The compilation.</returns>
    public static CSharpCompilation Compile(ImmutableArray<SyntaxTree> trees, SourceFlavour flavour, bool enableCa2000 = false)
    {
        IEnumerable<MetadataReference> references = s_frameworkReferences.Value;
        if (flavour == SourceFlavour.DmaBuf)
        {
            references = references.Append(MetadataReference.CreateFromFile(typeof(DmaBuffer).Assembly.Location));
        }

        var options = new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, concurrentBuild: false);
        if (enableCa2000)
        {
            options = options.WithSpecificDiagnosticOptions(new Dictionary<string, ReportDiagnostic> { ["CA2000"] = ReportDiagnostic.Warn });
        }

        return CSharpCompilation.Create("Sim", trees, references, options);
    }

    /// <summary>Compiles: a fresh compilation's <see cref="Compilation.GetDiagnostics"/>.</summary>
    /// <param name="trees">The trees.</param>
    /// <param name="flavour">Their flavour.</param>
    /// <returns>The number of compiler diagnostics (errors fail the run).</returns>
    public static int CompileOnly(ImmutableArray<SyntaxTree> trees, SourceFlavour flavour)
    {
        ImmutableArray<Diagnostic> diagnostics = Compile(trees, flavour).GetDiagnostics();
        ThrowOnErrors(diagnostics);
        return diagnostics.Length;
    }

    /// <summary>Runs analyzers over a fresh compilation and returns their summed execution time from Roslyn's telemetry.</summary>
    /// <param name="trees">The trees.</param>
    /// <param name="flavour">Their flavour.</param>
    /// <param name="analyzers">The analyzers.</param>
    /// <param name="enableCa2000">Turn CA2000 on in the compilation.</param>
    /// <returns>The analyzers' execution time and the diagnostics they reported, by id.</returns>
    public static AnalysisRun Analyze(ImmutableArray<SyntaxTree> trees, SourceFlavour flavour, ImmutableArray<DiagnosticAnalyzer> analyzers, bool enableCa2000 = false)
    {
        CSharpCompilation compilation = Compile(trees, flavour, enableCa2000);
        var options = new CompilationWithAnalyzersOptions(
            new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty),
            onAnalyzerException: (e, analyzer, _) => throw new InvalidOperationException($"{analyzer} threw.", e),
            concurrentAnalysis: false,
            logAnalyzerExecutionTime: true,
            reportSuppressedDiagnostics: false);
        var withAnalyzers = new CompilationWithAnalyzers(compilation, analyzers, options);
        // GetAnalysisResultAsync is the call that keeps the execution times for GetAnalyzerTelemetryInfoAsync.
        AnalysisResult result = withAnalyzers.GetAnalysisResultAsync(CancellationToken.None).GetAwaiter().GetResult();
        ImmutableArray<Diagnostic> diagnostics = result.GetAllDiagnostics();
        TimeSpan total = TimeSpan.Zero;
        var perAnalyzer = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        foreach (DiagnosticAnalyzer analyzer in analyzers)
        {
            TimeSpan time = withAnalyzers.GetAnalyzerTelemetryInfoAsync(analyzer, CancellationToken.None).GetAwaiter().GetResult().ExecutionTime;
            total += time;
            string name = analyzer.GetType().Name;
            perAnalyzer[name] = perAnalyzer.TryGetValue(name, out TimeSpan sum) ? sum + time : time;
        }

        var byId = diagnostics.Where(d => d.Severity != DiagnosticSeverity.Hidden && (d.Id.StartsWith("DMA", StringComparison.Ordinal) || d.Id == "CA2000"))
            .GroupBy(d => d.Id)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        return new AnalysisRun(total, perAnalyzer, byId);
    }

    private static void ThrowOnErrors(ImmutableArray<Diagnostic> diagnostics)
    {
        Diagnostic? error = diagnostics.FirstOrDefault(d => d.Severity == DiagnosticSeverity.Error);
        if (error is not null)
        {
            throw new InvalidOperationException($"The synthetic compilation does not compile: {error}");
        }
    }

    private static ImmutableArray<MetadataReference> LoadFrameworkReferences()
    {
        string[] wanted =
        {
            "System.Private.CoreLib", "System.Runtime", "System.Collections", "System.Threading", "System.Threading.Thread",
            "System.Threading.Tasks", "System.Memory", "System.Console", "System.Linq", "System.Runtime.InteropServices", "netstandard",
        };
        string tpa = (string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!;
        return tpa.Split(Path.PathSeparator)
            .Where(p => wanted.Contains(Path.GetFileNameWithoutExtension(p), StringComparer.Ordinal))
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToImmutableArray();
    }

    /// <summary>Where the NetAnalyzers package was restored: baked in at build time from its <c>GeneratePathProperty</c>.</summary>
    /// <returns>The package folder.</returns>
    public static string NetAnalyzersPackagePath()
    {
        string? path = typeof(AnalyzerHarness).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "NetAnalyzersPath")?.Value;
        if (string.IsNullOrEmpty(path) || !Directory.Exists(path))
        {
            throw new InvalidOperationException($"The Microsoft.CodeAnalysis.NetAnalyzers package folder is not known or missing ('{path}'); restore the benchmark project.");
        }

        return path;
    }

    private static ImmutableArray<DiagnosticAnalyzer> LoadCa2000()
    {
        string folder = Path.Combine(NetAnalyzersPackagePath(), "analyzers", "dotnet", "cs");
        var loader = new FolderLoader(folder);
        var analyzers = new List<DiagnosticAnalyzer>();
        foreach (string dll in Directory.GetFiles(folder, "*.dll"))
        {
            var reference = new AnalyzerFileReference(dll, loader);
            reference.AnalyzerLoadFailed += (_, e) => throw new InvalidOperationException($"Cannot load {dll}: {e.Message}", e.Exception);
            analyzers.AddRange(reference.GetAnalyzers(LanguageNames.CSharp).Where(a => a.SupportedDiagnostics.Any(d => d.Id == "CA2000")));
        }

        if (analyzers.Count == 0)
        {
            throw new InvalidOperationException($"No analyzer in {folder} reports CA2000.");
        }

        return analyzers.ToImmutableArray();
    }

    /// <summary>Loads the analyzer DLLs and their dependencies from their folder; Roslyn itself comes from the default context.</summary>
    private sealed class FolderLoader : AssemblyLoadContext, IAnalyzerAssemblyLoader
    {
        private readonly string _folder;

        public FolderLoader(string folder)
            : base("NetAnalyzers") => _folder = folder;

        public void AddDependencyLocation(string fullPath)
        {
        }

        public Assembly LoadFromPath(string fullPath) => LoadFromAssemblyPath(fullPath);

        protected override Assembly? Load(AssemblyName assemblyName)
        {
            string candidate = Path.Combine(_folder, assemblyName.Name + ".dll");
            return File.Exists(candidate) ? LoadFromAssemblyPath(candidate) : null;
        }
    }
}

/// <summary>One analyzer run: the summed execution time of the analyzers, per analyzer, and what they reported.</summary>
/// <param name="ExecutionTime">The sum of the analyzers' telemetry execution times.</param>
/// <param name="PerAnalyzer">Each analyzer's execution time.</param>
/// <param name="DiagnosticsById">The number of diagnostics per id.</param>
public sealed record AnalysisRun(TimeSpan ExecutionTime, IReadOnlyDictionary<string, TimeSpan> PerAnalyzer, IReadOnlyDictionary<string, int> DiagnosticsById);
