// The analyzers' telemetry carried from BenchmarkDotNet's child processes to the summary, one file per benchmark and N,
// and the Analyzers column with its median over the measured iterations.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace DmaBuf.Benchmarks;

/// <summary>
/// Carries the analyzers' telemetry from the processes BenchmarkDotNet starts to the one that prints the summary:
/// each measured call appends a line to a file per benchmark and N in a folder that <see cref="Program"/> empties first.
/// </summary>
public static class TelemetryLog
{
    /// <summary>The folder of the telemetry files.</summary>
    public static string Folder { get; } = Path.Combine(Path.GetTempPath(), "dmabuf-analyzer-telemetry");

    /// <summary>Empties the folder before a run.</summary>
    public static void Reset()
    {
        if (Directory.Exists(Folder))
        {
            Directory.Delete(Folder, recursive: true);
        }

        Directory.CreateDirectory(Folder);
    }

    /// <summary>Appends one run: total ticks, ticks per analyzer, diagnostics per id.</summary>
    /// <param name="benchmark">The benchmark method.</param>
    /// <param name="n">N.</param>
    /// <param name="run">The run.</param>
    public static void Append(string benchmark, int n, AnalysisRun run)
    {
        Directory.CreateDirectory(Folder);
        string perAnalyzer = string.Join(",", run.PerAnalyzer.Select(p => $"{p.Key}={p.Value.Ticks}"));
        string ids = string.Join(",", run.DiagnosticsById.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));
        File.AppendAllText(PathOf(benchmark, n), $"{run.ExecutionTime.Ticks};{perAnalyzer};{ids}{Environment.NewLine}");
    }

    /// <summary>
    /// The telemetry of the last <paramref name="count"/> calls of a benchmark: the measured iterations come last,
    /// after the jitting and warm-up calls.
    /// </summary>
    /// <param name="benchmark">The benchmark method.</param>
    /// <param name="n">N.</param>
    /// <param name="count">How many calls to take from the end; 0 for all.</param>
    /// <returns>The runs, oldest first: total time, per-analyzer text and diagnostics text.</returns>
    public static IReadOnlyList<(TimeSpan Total, string PerAnalyzer, string Diagnostics)> Read(string benchmark, int n, int count)
    {
        string path = PathOf(benchmark, n);
        if (!File.Exists(path))
        {
            return Array.Empty<(TimeSpan, string, string)>();
        }

        var runs = File.ReadAllLines(path)
            .Where(l => l.Length > 0)
            .Select(l => l.Split(';'))
            .Select(p => (TimeSpan.FromTicks(long.Parse(p[0], CultureInfo.InvariantCulture)), p[1], p[2]))
            .ToList();
        return count > 0 && runs.Count > count ? runs.Skip(runs.Count - count).ToList() : runs;
    }

    /// <summary>The median of a list of times.</summary>
    /// <param name="times">The times.</param>
    /// <returns>The median, or <see cref="TimeSpan.Zero"/> for none.</returns>
    public static TimeSpan Median(IEnumerable<TimeSpan> times) => new(Median(times.Select(t => t.Ticks)));

    /// <summary>The median of a list of counts (bytes, collections, ticks).</summary>
    /// <param name="values">The values.</param>
    /// <returns>The median (the mean of the two middle values for an even count), or 0 for none.</returns>
    public static long Median(IEnumerable<long> values)
    {
        var sorted = values.OrderBy(v => v).ToList();
        if (sorted.Count == 0)
        {
            return 0;
        }

        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string PathOf(string benchmark, int n) => Path.Combine(Folder, $"{benchmark}-{n.ToString(CultureInfo.InvariantCulture)}.txt");
}

/// <summary>The <c>Analyzers</c> column: the median telemetry execution time of the analyzers over the measured iterations.</summary>
public sealed class AnalyzerTelemetryColumn : IColumn
{
    /// <inheritdoc />
    public string Id => nameof(AnalyzerTelemetryColumn);

    /// <inheritdoc />
    public string ColumnName => "Analyzers (telemetry median)";

    /// <inheritdoc />
    public bool AlwaysShow => true;

    /// <inheritdoc />
    public ColumnCategory Category => ColumnCategory.Custom;

    /// <inheritdoc />
    public int PriorityInCategory => 0;

    /// <inheritdoc />
    public bool IsNumeric => true;

    /// <inheritdoc />
    public UnitType UnitType => UnitType.Dimensionless;

    /// <inheritdoc />
    public string Legend => "Median of Roslyn's analyzer ExecutionTime (GetAnalyzerTelemetryInfoAsync) over the measured iterations, summed over the analyzers run";

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        TimeSpan? median = MedianOf(summary, benchmarkCase);
        return median is { } m ? $"{m.TotalMilliseconds.ToString("N1", CultureInfo.InvariantCulture)} ms" : "-";
    }

    /// <summary>The telemetry median of a benchmark case, or null where it runs no analyzer.</summary>
    /// <param name="summary">The summary.</param>
    /// <param name="benchmarkCase">The case.</param>
    /// <returns>The median.</returns>
    public static TimeSpan? MedianOf(Summary summary, BenchmarkCase benchmarkCase)
    {
        if (benchmarkCase.Parameters["N"] is not int n)
        {
            return null;
        }

        int measured = summary[benchmarkCase]?.ResultStatistics?.N ?? 0;
        var runs = TelemetryLog.Read(benchmarkCase.Descriptor.WorkloadMethod.Name, n, measured);
        return runs.Count == 0 ? null : TelemetryLog.Median(runs.Select(r => r.Total));
    }

    /// <inheritdoc />
    public bool IsAvailable(Summary summary) => true;

    /// <inheritdoc />
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}
