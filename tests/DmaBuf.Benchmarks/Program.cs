// The benchmarks' entry point: BenchmarkDotNet with the analyzer targets printed after it, or an in-process analyzer
// report, the runtime's CPU cost, the blocking probe or a library's analysis cost, by the first argument.
using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Microsoft.CodeAnalysis;

namespace DmaBuf.Benchmarks;

/// <summary>
/// Runs the benchmarks: <c>dotnet run -c Release --project tests/DmaBuf.Benchmarks -- --filter '*'</c>.
/// <c>-- --analyzer-report [runs] [N...]</c> instead measures the analyzer scenarios in this process with a stopwatch and
/// the telemetry, and prints medians, ratios and the time per analyzer: quicker, for profiling.
/// <c>-- --blocking-probe &lt;library-src&gt; [out.tsv]</c> runs the <see cref="BlockingProbe"/> on a library's sources;
/// <c>-- --library-cost &lt;library-src&gt; [runs]</c> measures what the analyzers cost that library's compile (<see cref="LibraryCost"/>).
/// </summary>
public static class Program
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Entry point; the arguments go to BenchmarkDotNet's switcher.</summary>
    /// <param name="args">BenchmarkDotNet arguments, for example <c>--filter *Kmap*</c>.</param>
    public static void Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "--runtime-cpu")
        {
            RuntimeCpuReport(args.Length > 1 ? args[1] : "all");
            return;
        }

        if (args.Length > 0 && args[0] == "--blocking-probe")
        {
            Environment.Exit(BlockingProbe.Run(args.Skip(1).ToArray()));
        }

        if (args.Length > 0 && args[0] == "--library-cost")
        {
            Environment.ExitCode = LibraryCost.Run(args.Skip(1).ToArray());
            return;
        }

        if (args.Length > 0 && args[0] == "--analyzer-report")
        {
            InProcessReport(args.Skip(1).Select(a => int.Parse(a, Inv)).ToArray());
            return;
        }

        TelemetryLog.Reset();
        IEnumerable<Summary> summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        foreach (Summary summary in summaries)
        {
            if (summary.BenchmarksCases.Any(c => c.Descriptor.Type == typeof(AnalyzerBenchmarks)))
            {
                PrintAnalyzerTargets(summary);
            }
        }
    }

    /// <summary>The targets of the analyzer benchmarks, from BenchmarkDotNet's medians and the telemetry medians.</summary>
    private static void PrintAnalyzerTargets(Summary summary)
    {
        double? Wall(string method, int n) => summary.Reports
            .FirstOrDefault(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name == method && Equals(r.BenchmarkCase.Parameters["N"], n))?
            .ResultStatistics?.Median / 1e6;
        double? Telemetry(string method, int n)
        {
            BenchmarkCase? c = summary.BenchmarksCases.FirstOrDefault(b => b.Descriptor.WorkloadMethod.Name == method && Equals(b.Parameters["N"], n));
            return c is null ? null : AnalyzerTelemetryColumn.MedianOf(summary, c)?.TotalMilliseconds;
        }

        int[] ns = summary.BenchmarksCases.Select(c => c.Parameters["N"]).OfType<int>().Distinct().OrderBy(n => n).ToArray();
        var rows = ns.Select(n => new Row(
            n,
            Wall(nameof(AnalyzerBenchmarks.CompileDmaBuf), n),
            Telemetry(nameof(AnalyzerBenchmarks.DmaAnalyzers), n),
            Wall(nameof(AnalyzerBenchmarks.CompileDisposable), n),
            Telemetry(nameof(AnalyzerBenchmarks.Ca2000), n),
            Telemetry(nameof(AnalyzerBenchmarks.DmaAnalyzersWithoutRuntime), n))).ToList();
        Console.WriteLine();
        Console.WriteLine("Analyzer targets (compile: BenchmarkDotNet median of a fresh GetDiagnostics(); analyzers: telemetry median)");
        PrintRows(rows);
        foreach (int n in ns)
        {
            var runs = TelemetryLog.Read(nameof(AnalyzerBenchmarks.DmaAnalyzers), n, 1);
            if (runs.Count > 0)
            {
                Console.WriteLine($"N={n}: DMA analyzers reported {runs[0].Diagnostics}; per analyzer (last run, ticks): {runs[0].PerAnalyzer}");
            }

            runs = TelemetryLog.Read(nameof(AnalyzerBenchmarks.Ca2000), n, 1);
            if (runs.Count > 0)
            {
                Console.WriteLine($"N={n}: CA2000 reported {runs[0].Diagnostics}");
            }
        }
    }

    private sealed record Row(int N, double? CompileMs, double? DmaMs, double? CompileDisposableMs, double? Ca2000Ms, double? NoRuntimeMs);

    private static void PrintRows(IReadOnlyList<Row> rows)
    {
        static string F(double? v, string format = "N1") => v is { } d ? d.ToString(format, Inv) : "-";
        static double? Div(double? a, double? b) => a is { } x && b is { } y && y > 0 ? x / y : null;

        Console.WriteLine("|     N | compile ms | DMA ms | DMA/compile (≤50%) | CA2000 ms | DMA/CA2000 (≤20%) | growth vs N=250 (≤9× at 2000) | compile w/o runtime ms | DMA w/o runtime ms | ratio (≤1%) |");
        Console.WriteLine("|------:|-----------:|-------:|-------------------:|----------:|------------------:|------------------------------:|-----------------------:|-------------------:|------------:|");
        double? first = rows.FirstOrDefault(r => r.N == 250)?.DmaMs;
        foreach (Row r in rows)
        {
            Console.WriteLine(
                $"| {r.N,5} | {F(r.CompileMs),10} | {F(r.DmaMs),6} | {F(Div(r.DmaMs, r.CompileMs), "P1"),18} | {F(r.Ca2000Ms),9} | {F(Div(r.DmaMs, r.Ca2000Ms), "P1"),17} | " +
                $"{F(Div(r.DmaMs, first), "N2") + "×",29} | {F(r.CompileDisposableMs),22} | {F(r.NoRuntimeMs, "N2"),18} | {F(Div(r.NoRuntimeMs, r.CompileDisposableMs), "P2"),11} |");
        }
    }

    /// <summary>Measures the scenarios in this process: stopwatch medians for compiling, telemetry medians for the analyzers.</summary>
    private static void InProcessReport(int[] args)
    {
        int runs = args.Length > 0 ? args[0] : 5;
        int[] ns = args.Length > 1 ? args.Skip(1).ToArray() : new[] { 250, 500, 1000, 2000 };
        Console.WriteLine($"DMA analyzers: {string.Join(", ", AnalyzerHarness.DmaAnalyzers.Select(a => a.GetType().Name))}");
        Console.WriteLine($"CA2000 analyzers: {string.Join(", ", AnalyzerHarness.Ca2000Analyzers.Select(a => a.GetType().Name))}");
        var rows = new List<Row>();
        foreach (int n in ns)
        {
            ImmutableArray<SyntaxTree> dma = AnalyzerHarness.Parse(n, SourceFlavour.DmaBuf);
            ImmutableArray<SyntaxTree> disposable = AnalyzerHarness.Parse(n, SourceFlavour.Disposable);

            // One warm-up of each scenario, then the measured runs.
            var compile = new List<TimeSpan>();
            var compileDisposable = new List<TimeSpan>();
            var dmaRuns = new List<AnalysisRun>();
            var caRuns = new List<AnalysisRun>();
            var noRuntime = new List<AnalysisRun>();
            var cpuCompile = new List<TimeSpan>();
            var cpuWithDma = new List<TimeSpan>();
            var cpuCompileDisposable = new List<TimeSpan>();
            var cpuWithCa2000 = new List<TimeSpan>();
            var gcCompile = new List<TimeSpan>();
            var gcWithDma = new List<TimeSpan>();
            var allocatedCompile = new List<long>();
            var allocatedWithDma = new List<long>();
            var gen2WithDma = new List<long>();
            for (int i = 0; i <= runs; i++)
            {
                TimeSpan cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
                TimeSpan gc0 = GC.GetTotalPauseDuration();
                long bytes0 = GC.GetTotalAllocatedBytes(precise: true);
                TimeSpan c = Time(() => AnalyzerHarness.CompileOnly(dma, SourceFlavour.DmaBuf));
                TimeSpan gc1 = GC.GetTotalPauseDuration();
                long bytes1 = GC.GetTotalAllocatedBytes(precise: true);
                TimeSpan cpu1 = Process.GetCurrentProcess().TotalProcessorTime;
                TimeSpan cd = Time(() => AnalyzerHarness.CompileOnly(disposable, SourceFlavour.Disposable));
                TimeSpan cpu2 = Process.GetCurrentProcess().TotalProcessorTime;
                TimeSpan gc2 = GC.GetTotalPauseDuration();
                long bytes2 = GC.GetTotalAllocatedBytes(precise: true);
                int gen2Before = GC.CollectionCount(2);
                AnalysisRun d = AnalyzerHarness.Analyze(dma, SourceFlavour.DmaBuf, AnalyzerHarness.DmaAnalyzers);
                TimeSpan gc3 = GC.GetTotalPauseDuration();
                long bytes3 = GC.GetTotalAllocatedBytes(precise: true);
                int gen2After = GC.CollectionCount(2);
                TimeSpan cpu3 = Process.GetCurrentProcess().TotalProcessorTime;
                AnalysisRun ca = AnalyzerHarness.Analyze(disposable, SourceFlavour.Disposable, AnalyzerHarness.Ca2000Analyzers, enableCa2000: true);
                TimeSpan cpu4 = Process.GetCurrentProcess().TotalProcessorTime;
                AnalysisRun nr = AnalyzerHarness.Analyze(disposable, SourceFlavour.Disposable, AnalyzerHarness.DmaAnalyzers);
                if (i == 0)
                {
                    continue;
                }

                cpuCompile.Add(cpu1 - cpu0);
                cpuCompileDisposable.Add(cpu2 - cpu1);
                cpuWithDma.Add(cpu3 - cpu2);
                cpuWithCa2000.Add(cpu4 - cpu3);
                gcCompile.Add(gc1 - gc0);
                gcWithDma.Add(gc3 - gc2);
                allocatedCompile.Add(bytes1 - bytes0);
                allocatedWithDma.Add(bytes3 - bytes2);
                gen2WithDma.Add(gen2After - gen2Before);

                compile.Add(c);
                compileDisposable.Add(cd);
                dmaRuns.Add(d);
                caRuns.Add(ca);
                noRuntime.Add(nr);
            }

            rows.Add(new Row(
                n,
                TelemetryLog.Median(compile).TotalMilliseconds,
                TelemetryLog.Median(dmaRuns.Select(r => r.ExecutionTime)).TotalMilliseconds,
                TelemetryLog.Median(compileDisposable).TotalMilliseconds,
                TelemetryLog.Median(caRuns.Select(r => r.ExecutionTime)).TotalMilliseconds,
                TelemetryLog.Median(noRuntime.Select(r => r.ExecutionTime)).TotalMilliseconds));
            string perAnalyzer = string.Join(", ", dmaRuns[0].PerAnalyzer.Keys.Select(k => $"{k} {TelemetryLog.Median(dmaRuns.Select(r => r.PerAnalyzer[k])).TotalMilliseconds.ToString("N1", Inv)} ms"));
            string spread = $"DMA min {dmaRuns.Min(r => r.ExecutionTime).TotalMilliseconds.ToString("N1", Inv)} max {dmaRuns.Max(r => r.ExecutionTime).TotalMilliseconds.ToString("N1", Inv)}; " +
                $"compile min {compile.Min().TotalMilliseconds.ToString("N1", Inv)} max {compile.Max().TotalMilliseconds.ToString("N1", Inv)}; " +
                $"CA2000 min {caRuns.Min(r => r.ExecutionTime).TotalMilliseconds.ToString("N1", Inv)} max {caRuns.Max(r => r.ExecutionTime).TotalMilliseconds.ToString("N1", Inv)}";
            Console.WriteLine($"N={n}: {dma.Length} trees, {dma.Sum(t => t.GetText().Lines.Count)} lines; compiler diagnostics: {AnalyzerHarness.CompileOnly(dma, SourceFlavour.DmaBuf)} (dma-buf version), {AnalyzerHarness.CompileOnly(disposable, SourceFlavour.Disposable)} (IDisposable version)");
            Console.WriteLine($"N={n}: process CPU medians (ms): compile {M(cpuCompile)}, compile+DMA analyzers {M(cpuWithDma)}, compile of the IDisposable version {M(cpuCompileDisposable)}, compile+CA2000 {M(cpuWithCa2000)}");
            Console.WriteLine($"N={n}: GC (medians): pauses compile {M(gcCompile)} ms, compile+DMA analyzers {M(gcWithDma)} ms; allocated compile {MiB(allocatedCompile)} MiB, compile+DMA analyzers {MiB(allocatedWithDma)} MiB; gen2 collections in compile+DMA analyzers {TelemetryLog.Median(gen2WithDma)}");
            Console.WriteLine($"N={n}: per analyzer (median) {perAnalyzer}; {spread}");
            Console.WriteLine($"N={n}: DMA reported {string.Join(", ", dmaRuns[0].DiagnosticsById.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"))}; " +
                $"CA2000 reported {string.Join(", ", caRuns[0].DiagnosticsById.Select(p => $"{p.Key}={p.Value}"))}; without runtime DMA reported {noRuntime[0].DiagnosticsById.Count} ids");
        }

        Console.WriteLine();
        Console.WriteLine($"Medians of {runs} runs after one warm-up (compile: stopwatch around a fresh GetDiagnostics(); analyzers: telemetry)");
        PrintRows(rows);
    }

    /// <summary>
    /// The runtime figures measured in process CPU time rather than wall time, which on a shared, overloaded machine
    /// mostly measures the scheduler: the copies alternate so both see the same conditions. The validator follows
    /// DMABUF_VALIDATION as usual. <c>--runtime-cpu pairs</c> or <c>--runtime-cpu copies</c> runs only one half.
    /// </summary>
    private static void RuntimeCpuReport(string part)
    {
        Console.WriteLine($"validator {(DmaBufValidation.IsEnabled ? "on" : "off")}");
        if (part != "copies")
        {
            RuntimePairs();
        }

        if (part != "pairs")
        {
            RuntimeCopies();
        }
    }

    private static void RuntimePairs()
    {
        var pair = new KmapPairBenchmarks();
        pair.Setup();
        const int Pairs = 10_000_000;
        var pairNs = new List<double>();
        var kmapPairNs = new List<double>();
        var beginEndNs = new List<double>();
        for (int round = 0; round < 9; round++)
        {
            pairNs.Add(CpuTime(() =>
            {
                for (int i = 0; i < Pairs; i++)
                {
                    pair.KmapAtomicPair();
                }
            }).TotalNanoseconds / Pairs);
            kmapPairNs.Add(CpuTime(() =>
            {
                for (int i = 0; i < Pairs; i++)
                {
                    pair.KmapPair();
                }
            }).TotalNanoseconds / Pairs);
            beginEndNs.Add(CpuTime(() =>
            {
                for (int i = 0; i < Pairs / 10; i++)
                {
                    pair.BeginEndPair();
                }
            }).TotalNanoseconds / (Pairs / 10));
        }

        pair.Cleanup();
        Console.WriteLine($"KmapAtomic+KunmapAtomic pair: {Spread(pairNs)} ns CPU");
        Console.WriteLine($"Kmap+Kunmap pair: {Spread(kmapPairNs)} ns CPU");
        Console.WriteLine($"BeginCpuAccess+EndCpuAccess pair (one page): {Spread(beginEndNs)} ns CPU");
    }

    private static void RuntimeCopies()
    {

        var copy = new PageCopyBenchmarks();
        copy.Setup();
        var memcpyMs = new List<double>();
        var kmapMs = new List<double>();
        var plainMs = new List<double>();
        var rawMs = new List<double>();
        var ratios = new List<double>();
        var plainRatios = new List<double>();
        var rawRatios = new List<double>();
        for (int round = 0; round < 21; round++)
        {
            double m = CpuTime(copy.MemoryCopySegments).TotalMilliseconds;
            double k = CpuTime(copy.KmapAtomicPageCopy).TotalMilliseconds;
            double m2 = CpuTime(copy.MemoryCopySegments).TotalMilliseconds;
            double plain = CpuTime(copy.KmapPageCopy).TotalMilliseconds;
            double raw = CpuTime(copy.RawPageCopy).TotalMilliseconds;
            if (round == 0)
            {
                continue;
            }

            memcpyMs.Add(m);
            kmapMs.Add(k);
            plainMs.Add(plain);
            rawMs.Add(raw);
            ratios.Add(m / k);
            plainRatios.Add(m2 / plain);
            rawRatios.Add(raw / plain);
        }

        copy.Cleanup();
        Console.WriteLine($"64 MiB Buffer.MemoryCopy: {Spread(memcpyMs)} ms CPU");
        Console.WriteLine($"64 MiB page-wise KmapAtomic copy: {Spread(kmapMs)} ms CPU");
        Console.WriteLine($"64 MiB page-wise Kmap copy: {Spread(plainMs)} ms CPU");
        Console.WriteLine($"64 MiB page-wise copy with no kmap: {Spread(rawMs)} ms CPU");
        Console.WriteLine($"throughput of the KmapAtomic copy relative to MemoryCopy, per alternated pair: {Spread(ratios.Select(r => r * 100).ToList())} %");
        Console.WriteLine($"throughput of the Kmap copy relative to MemoryCopy, per alternated pair: {Spread(plainRatios.Select(r => r * 100).ToList())} %");
        Console.WriteLine($"throughput of the Kmap copy relative to the page-wise copy with no kmap: {Spread(rawRatios.Select(r => r * 100).ToList())} %");
    }

    private static string Spread(List<double> values)
    {
        values.Sort();
        return $"median {values[values.Count / 2].ToString("N2", Inv)} (min {values[0].ToString("N2", Inv)}, max {values[^1].ToString("N2", Inv)}, n={values.Count})";
    }

    private static TimeSpan CpuTime(Action action)
    {
        TimeSpan before = Process.GetCurrentProcess().TotalProcessorTime;
        action();
        return Process.GetCurrentProcess().TotalProcessorTime - before;
    }

    private static string MiB(List<long> bytes) => (TelemetryLog.Median(bytes) / (1024.0 * 1024.0)).ToString("N0", Inv);

    private static string M(List<TimeSpan> times) => TelemetryLog.Median(times).TotalMilliseconds.ToString("N0", Inv);

    private static TimeSpan Time(Action action)
    {
        var sw = Stopwatch.StartNew();
        action();
        return sw.Elapsed;
    }
}
