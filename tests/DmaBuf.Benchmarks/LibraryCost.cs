// What the DMA analyzers cost a real library's build: the library's sources compiled in process (with DmaBuf.Runtime
// referenced), the compile alone against the compile with the analyzers on, medians of several runs after a warm-up.
// With no dma-buf code in the library this is the price of installing the package in a large solution; with a few
// files of dma-buf methods added (--add), the price of a solution in which a few files use it.
using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace DmaBuf.Benchmarks;

/// <summary>
/// <c>--library-cost &lt;library-src&gt; [runs] [dma-methods] [--define A;B] [--implicit-usings] [--add file.cs]...</c>:
/// <c>dma-methods</c> adds that many of the benchmark's synthetic dma-buf methods to the library. With
/// <c>synthetic</c> for the folder, the library is the repository's stand-in of a real one's size: the benchmark's
/// methods against an API of its own (<see cref="SourceFlavour.Disposable"/>, renamed), about 70,000 lines, none touching a buffer.
/// </summary>
public static class LibraryCost
{
    /// <summary>The folder argument that asks for the stand-in library instead of a real one.</summary>
    public const string Synthetic = "synthetic";

    /// <summary>Methods of the stand-in library: about the 70,000 lines of Newtonsoft.Json.</summary>
    private const int SyntheticLibraryMethods = 4400;

    /// <summary>Runs the measurement; the arguments are those after <c>--library-cost</c>.</summary>
    /// <param name="args">The folder, then the number of runs and the compile options.</param>
    /// <returns>The process exit code.</returns>
    public static int Run(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine("usage: --library-cost <library-src>|synthetic [runs] [dma-methods] [--define A;B] [--ref x.dll] [--exclude part] [--implicit-usings] [--add file.cs]");
            return 2;
        }

        LibrarySources.Options options = LibrarySources.Parse(args.Skip(1), out List<string> rest);
        int runs = rest.Count > 0 ? int.Parse(rest[0], CultureInfo.InvariantCulture) : 5;
        CSharpCompilation library = args[0] == Synthetic
            ? LibrarySources.Compile(SyntheticLibrary().Select((text, i) => (text, $"/synthetic/Library{i}.cs")), options, "Library")
            : LibrarySources.Compile(args[0], options, "Library");
        int synthetic = rest.Count > 1 ? int.Parse(rest[1], CultureInfo.InvariantCulture) : 0;
        if (synthetic > 0)
        {
            // A few files of dma-buf methods (the benchmark's synthetic shapes, every rule's) added to the library.
            library = library.AddSyntaxTrees(SyntheticSources.Create(synthetic, SourceFlavour.DmaBuf)
                .Select((text, i) => CSharpSyntaxTree.ParseText(text, options.ParseOptions, path: $"Dma{i}.cs")));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{library.SyntaxTrees.Count()} files, {library.SyntaxTrees.Sum(t => t.GetText().Lines.Count):N0} lines, {library.GetDiagnostics().Count(d => d.Severity == DiagnosticSeverity.Error)} compiler errors"));
        Measure(library, runs, "library");
        return 0;
    }

    /// <summary>
    /// The stand-in library: the benchmark's IDisposable methods with the stand-in API renamed, since a real library
    /// has no types called DmaBuffer or methods called Kmap of its own (a look-alike API would pass the text pre-filter
    /// and have every body bound, as code that may use the runtime).
    /// </summary>
    private static IEnumerable<string> SyntheticLibrary() =>
        SyntheticSources.Create(SyntheticLibraryMethods, SourceFlavour.Disposable).Select(text => text
            .Replace("DmaBuf", "Shm", StringComparison.Ordinal)
            .Replace("CpuAccess", "HostAccess", StringComparison.Ordinal)
            .Replace("Kunmap", "Unmap", StringComparison.Ordinal)
            .Replace("Kmap", "Map", StringComparison.Ordinal)
            .Replace("ScatterGatherTable", "SegmentTable", StringComparison.Ordinal));

    /// <summary>Measures the compile alone and with the DMA analyzers on fresh copies of <paramref name="compilation"/>, and prints medians.</summary>
    /// <param name="compilation">The compilation (its trees are reused, its semantic state is not).</param>
    /// <param name="runs">Measured runs after one warm-up.</param>
    /// <param name="label">What the row is.</param>
    public static void Measure(Compilation compilation, int runs, string label)
    {
        var compile = new List<double>();
        var analyzers = new List<double>();
        var withAnalyzersCpu = new List<double>();
        var compileCpu = new List<double>();
        Dictionary<string, int> reported = new(StringComparer.Ordinal);
        var perAnalyzer = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        for (int i = 0; i <= runs; i++)
        {
            Compilation fresh = compilation.RemoveAllSyntaxTrees().AddSyntaxTrees(compilation.SyntaxTrees);
            TimeSpan cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            _ = fresh.GetDiagnostics();
            double c = watch.Elapsed.TotalMilliseconds;
            TimeSpan cpu1 = Process.GetCurrentProcess().TotalProcessorTime;

            Compilation second = compilation.RemoveAllSyntaxTrees().AddSyntaxTrees(compilation.SyntaxTrees);
            var withAnalyzers = new CompilationWithAnalyzers(
                second,
                AnalyzerHarness.DmaAnalyzers,
                new CompilationWithAnalyzersOptions(new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty), null, concurrentAnalysis: false, logAnalyzerExecutionTime: true, reportSuppressedDiagnostics: false));
            TimeSpan cpu2 = Process.GetCurrentProcess().TotalProcessorTime;
            AnalysisResult result = withAnalyzers.GetAnalysisResultAsync(CancellationToken.None).GetAwaiter().GetResult();
            TimeSpan cpu3 = Process.GetCurrentProcess().TotalProcessorTime;
            var each = AnalyzerHarness.DmaAnalyzers.ToDictionary(d => d.GetType().Name, d => withAnalyzers.GetAnalyzerTelemetryInfoAsync(d, CancellationToken.None).GetAwaiter().GetResult().ExecutionTime.TotalMilliseconds);
            double a = each.Values.Sum();
            foreach (KeyValuePair<string, double> analyzer in each)
            {
                perAnalyzer[analyzer.Key] = perAnalyzer.TryGetValue(analyzer.Key, out List<double>? list) ? list : new List<double>();
                perAnalyzer[analyzer.Key].Add(analyzer.Value);
            }

            if (i == 0)
            {
                reported = result.GetAllDiagnostics().Where(d => d.Id.StartsWith("DMA", StringComparison.Ordinal) || d.Id == "AD0001")
                    .GroupBy(d => d.Id).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
                continue;
            }

            compile.Add(c);
            analyzers.Add(a);
            compileCpu.Add((cpu1 - cpu0).TotalMilliseconds);
            withAnalyzersCpu.Add((cpu3 - cpu2).TotalMilliseconds);
        }

        foreach (List<double> list in perAnalyzer.Values)
        {
            list.RemoveAt(0);
        }

        double mc = Median(compile);
        double ma = Median(analyzers);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{label}: compile {mc:N1} ms (CPU {Median(compileCpu):N1}), DMA analyzers {ma:N1} ms = {100 * ma / mc:N2} % of the compile (compile+analysis CPU {Median(withAnalyzersCpu):N1} ms); medians of {runs}; per analyzer {string.Join(", ", perAnalyzer.Select(p => $"{p.Key} {Median(p.Value):N1} ms"))}; reported {(reported.Count == 0 ? "nothing" : string.Join(", ", reported.OrderBy(r => r.Key).Select(r => $"{r.Key}={r.Value}")))}"));
    }

    private static double Median(List<double> values)
    {
        var sorted = values.OrderBy(v => v).ToList();
        return sorted.Count == 0 ? 0 : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
