// The analyzers' cost on synthetic compilations of 250 to 2000 methods: compiling alone, the DMA analyzers, CA2000 on
// the IDisposable version of the same code, and the DMA analyzers on code that does not use the runtime.
using System;
using System.Collections.Immutable;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using Microsoft.CodeAnalysis;

namespace DmaBuf.Benchmarks;

/// <summary>
/// The analyzers' cost on a synthetic compilation of N methods of dma-buf code (<see cref="SyntheticSources"/>):
/// the wall time of each scenario, and in the <c>Analyzers</c> column the median of Roslyn's own analyzer telemetry
/// (<c>GetAnalyzerTelemetryInfoAsync(...).ExecutionTime</c>) over the measured iterations.
/// <list type="bullet">
/// <item><see cref="CompileDmaBuf"/>: a fresh compilation's <c>GetDiagnostics()</c>, the yardstick for the analyzers;</item>
/// <item><see cref="DmaAnalyzers"/>: all DMA analyzers over a fresh compilation of the same code;</item>
/// <item><see cref="CompileDisposable"/> and <see cref="Ca2000"/>: the IDisposable version of the same methods, and CA2000 over it;</item>
/// <item><see cref="DmaAnalyzersWithoutRuntime"/>: the DMA analyzers over that version, which does not reference DmaBuf.Runtime.</item>
/// </list>
/// Program prints the ratios against the targets after the run.
/// </summary>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5, id: "analyzers")]
[Config(typeof(TelemetryConfig))]
public class AnalyzerBenchmarks
{
    private ImmutableArray<SyntaxTree> _dmaBuf;
    private ImmutableArray<SyntaxTree> _disposable;

    /// <summary>The number of methods.</summary>
    [Params(250, 500, 1000, 2000)]
    public int N { get; set; }

    /// <summary>Parses both versions once; each iteration compiles them afresh.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _dmaBuf = AnalyzerHarness.Parse(N, SourceFlavour.DmaBuf);
        _disposable = AnalyzerHarness.Parse(N, SourceFlavour.Disposable);
    }

    /// <summary>Compile time of the dma-buf code: a fresh compilation's GetDiagnostics().</summary>
    /// <returns>The number of compiler diagnostics.</returns>
    [Benchmark(Baseline = true)]
    public int CompileDmaBuf() => AnalyzerHarness.CompileOnly(_dmaBuf, SourceFlavour.DmaBuf);

    /// <summary>All DMA analyzers over a fresh compilation of the dma-buf code (wall time includes compiling).</summary>
    /// <returns>The analyzers' execution time in ticks.</returns>
    [Benchmark]
    public long DmaAnalyzers() => Record(nameof(DmaAnalyzers), AnalyzerHarness.Analyze(_dmaBuf, SourceFlavour.DmaBuf, AnalyzerHarness.DmaAnalyzers));

    /// <summary>Compile time of the IDisposable version.</summary>
    /// <returns>The number of compiler diagnostics.</returns>
    [Benchmark]
    public int CompileDisposable() => AnalyzerHarness.CompileOnly(_disposable, SourceFlavour.Disposable);

    /// <summary>CA2000 from Microsoft.CodeAnalysis.NetAnalyzers over a fresh compilation of the IDisposable version.</summary>
    /// <returns>The analyzer's execution time in ticks.</returns>
    [Benchmark]
    public long Ca2000() => Record(nameof(Ca2000), AnalyzerHarness.Analyze(_disposable, SourceFlavour.Disposable, AnalyzerHarness.Ca2000Analyzers, enableCa2000: true));

    /// <summary>All DMA analyzers over the IDisposable version, a compilation that does not reference DmaBuf.Runtime.</summary>
    /// <returns>The analyzers' execution time in ticks.</returns>
    [Benchmark]
    public long DmaAnalyzersWithoutRuntime() => Record(nameof(DmaAnalyzersWithoutRuntime), AnalyzerHarness.Analyze(_disposable, SourceFlavour.Disposable, AnalyzerHarness.DmaAnalyzers));

    private sealed class TelemetryConfig : ManualConfig
    {
        public TelemetryConfig() => AddColumn(new AnalyzerTelemetryColumn());
    }

    private long Record(string benchmark, AnalysisRun run)
    {
        TelemetryLog.Append(benchmark, N, run);
        return run.ExecutionTime.Ticks;
    }
}
