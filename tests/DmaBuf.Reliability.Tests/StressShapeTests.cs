// Code shapes that stress the analyzers (10,000 statements, deep nesting, 500 buffers, a 1,000-call chain, recursion,
// partial classes, iterators, goto loops) report exactly what is expected, concurrently or not, and stop when
// cancelled.
using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace DmaBuf.Reliability.Tests;

/// <summary>
/// Shapes that stress the analyzers: huge, deep, wide, long call chains, recursion, partial classes, top-level
/// statements, generics, iterators and goto loops. Each must finish within a generous bound (enforced by
/// cancellation, not by measuring), report exactly what is expected, and report the same with concurrent
/// execution on and off.
/// </summary>
public sealed class StressShapeTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    public static TheoryData<string> Shapes => new(ShapeSources.All.Keys);

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task EachShapeReportsExactlyWhatIsExpectedWithConcurrentExecutionOnAndOff(string shape)
    {
        var (sources, expected) = ShapeSources.All[shape];
        Compilation compilation = AnalyzerHost.Compile(sources);
        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));

        using var bound = new CancellationTokenSource(Bound);
        var (concurrent, concurrentExceptions) = await AnalyzerHost.AnalyzeAsync(compilation, concurrent: true, bound.Token);
        var (sequential, sequentialExceptions) = await AnalyzerHost.AnalyzeAsync(AnalyzerHost.Compile(sources), concurrent: false, bound.Token);

        Assert.Empty(concurrentExceptions);
        Assert.Empty(sequentialExceptions);
        Assert.Equal(expected.OrderBy(id => id), Ids(concurrent));
        Assert.Equal(Ids(concurrent), Ids(sequential));
        Assert.Equal(Describe(concurrent), Describe(sequential));
    }

    [Fact]
    public async Task AnalysisStopsWithOperationCanceledExceptionWhenCancelled()
    {
        Compilation compilation = AnalyzerHost.Compile(ShapeSources.All["10,000 statements"].Sources);
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => AnalyzerHost.AnalyzeAsync(compilation, cancellationToken: cancellation.Token));
    }

    [Fact]
    public async Task AnalysisThatIsAlreadyRunningStopsWhenCancelled()
    {
        // Cancellation from outside while the analyzers run: a probe analyzer cancels once the driver has begun
        // analyzing the trees, so the cancellation always lands in a running analysis (the bound only keeps a hung
        // analysis from hanging the test run).
        Compilation compilation = AnalyzerHost.Compile(ShapeSources.All["10,000 statements"].Sources[0], ShapeSources.All["1,000-method call chain"].Sources[0]);
        using var cancellation = new CancellationTokenSource();
        var probe = new CancelWhenRunning(cancellation);
        Task analysis = Task.Run(() => AnalyzerHost.AnalyzeAsync(compilation, cancellationToken: cancellation.Token, alongside: probe));

        Task finished = await Task.WhenAny(analysis, Task.Delay(Bound));
        Assert.Same(analysis, finished);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => analysis);
        Assert.True(probe.Cancelled);
    }

    /// <summary>An analyzer that cancels the analysis it runs in from its first syntax tree action.</summary>
#pragma warning disable RS1036 // A test-only analyzer inside the test project: not shipped.
    [DiagnosticAnalyzer(LanguageNames.CSharp)]
    private sealed class CancelWhenRunning : DiagnosticAnalyzer
#pragma warning restore RS1036
    {
#pragma warning disable RS2008 // A test-only analyzer inside the test project: not shipped, no release tracking.
        private static readonly DiagnosticDescriptor Never = new("PROBE01", "probe", "probe", "Probe", DiagnosticSeverity.Hidden, isEnabledByDefault: true);
#pragma warning restore RS2008
        private readonly CancellationTokenSource _cancellation;
        private int _cancelled;

        public CancelWhenRunning(CancellationTokenSource cancellation) => _cancellation = cancellation;

        public bool Cancelled => Volatile.Read(ref _cancelled) == 1;

        public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => ImmutableArray.Create(Never);

        public override void Initialize(AnalysisContext context)
        {
            context.EnableConcurrentExecution();
            context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
            context.RegisterSyntaxTreeAction(_ =>
            {
                if (Interlocked.Exchange(ref _cancelled, 1) == 0)
                {
                    _cancellation.Cancel();
                }
            });
        }
    }

    private static string[] Ids(IEnumerable<Diagnostic> diagnostics) =>
        diagnostics.Where(d => d.Id.StartsWith("DMA", StringComparison.Ordinal)).Select(d => d.Id).OrderBy(id => id).ToArray();

    private static string[] Describe(IEnumerable<Diagnostic> diagnostics) =>
        diagnostics.Where(d => d.Id.StartsWith("DMA", StringComparison.Ordinal)).Select(d => $"{d.Id} {d.Location.GetLineSpan()} {d.GetMessage()}").OrderBy(s => s, StringComparer.Ordinal).ToArray();
}

internal static class ShapeSources
{
    private const string Usings = "using System;\nusing System.Collections.Generic;\nusing System.Threading;\nusing System.Threading.Tasks;\nusing DmaBuf;\n";

    public static readonly IReadOnlyDictionary<string, (string[] Sources, string[] Expected)> All = new Dictionary<string, (string[], string[])>
    {
        ["10,000 statements"] = (new[] { TenThousandStatements() }, new[] { "DMA0003", "DMA0005" }),
        ["200 nested blocks"] = (new[] { NestedBlocks(200) }, Array.Empty<string>()),
        ["500 buffers in one method"] = (new[] { ManyBuffers(500) }, new[] { "DMA0001" }),
        ["1,000-method call chain"] = (new[] { CallChain(1000) }, new[] { "DMA0005" }),
        ["recursion and mutual recursion"] = (new[] { Recursion() }, new[] { "DMA0005", "DMA0005" }),
        ["partial classes across files"] = (PartialClasses(), new[] { "DMA0005" }),
        ["top-level statements"] = (new[] { TopLevel() }, new[] { "DMA0001", "DMA0010" }),
        ["generic methods"] = (new[] { Generic() }, new[] { "DMA0001" }),
        ["iterator holding a mapping across yield return"] = (new[] { Iterator() }, new[] { "DMA0005" }),
        ["async iterator awaiting while a mapping is held"] = (new[] { AsyncIterator() }, new[] { "DMA0005" }),
        ["goto loops"] = (new[] { GotoLoop() }, new[] { "DMA0003", "DMA0004", "DMA0005" }),
    };

    // 10,000 statements: 2,500 map/use/unmap groups of four statements; the very last group forgets its unmap
    // (DMA0003), so the atomic mapping is still held at EndCpuAccess, which may block (DMA0005).
    private static string TenThousandStatements()
    {
        var body = new StringBuilder();
        for (int i = 0; i < 2500; i++)
        {
            body.AppendLine($"        var p{i} = buf.KmapAtomic({i % 4});");
            body.AppendLine($"        p{i}.Span[{i % 4096}] = (byte){i % 256};");
            body.AppendLine($"        sum += p{i}.Span[0];");
            body.AppendLine(i == 2499 ? "        sum++;" : $"        buf.KunmapAtomic({i % 4}, p{i});");
        }

        return Usings + $$"""
            static class Big
            {
                public static int Run(DmaBuffer buf)
                {
                    int sum = 0;
                    buf.BeginCpuAccess(0, 4 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
            {{body}}
                    buf.EndCpuAccess(0, 4 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
                    return sum;
                }
            }
            """;
    }

    private static string NestedBlocks(int depth)
    {
        string open = string.Concat(Enumerable.Range(0, depth).Select(i => $"if (flags[{i}]) {{\n"));
        string close = new string('}', depth);
        return Usings + $$"""
            static class Deep
            {
                public static int Run(DmaBuffer buf, bool[] flags)
                {
                    int sum = 0;
                    using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice))
                    {
                        {{open}}
                        using (var page = buf.KmapAtomic(0)) { sum += page.Span[0]; }
                        {{close}}
                    }
                    return sum;
                }
            }
            """;
    }

    // 500 buffers, each begun, ended and put; buffer 250 is begun and never ended.
    private static string ManyBuffers(int count)
    {
        var body = new StringBuilder();
        for (int i = 0; i < count; i++)
        {
            body.AppendLine($"        var b{i} = DmaBuffer.Export(new SystemHeapExporter(), DmaBuffer.PageSize);");
            body.AppendLine($"        b{i}.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);");
        }

        for (int i = 0; i < count; i++)
        {
            if (i != 250)
            {
                body.AppendLine($"        b{i}.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);");
            }

            body.AppendLine($"        b{i}.Put();");
        }

        return Usings + $$"""
            static class Wide
            {
                public static void Run()
                {
            {{body}}
                }
            }
            """;
    }

    // M0 -> M1 -> ... -> M999, and M999 sleeps: calling M0 while an atomic mapping is held is DMA0005.
    private static string CallChain(int length)
    {
        var methods = new StringBuilder();
        for (int i = 0; i < length - 1; i++)
        {
            methods.AppendLine($"    static void M{i}() => M{i + 1}();");
        }

        methods.AppendLine($"    static void M{length - 1}() => Thread.Sleep(1);");
        return Usings + $$"""
            static class Chain
            {
                public static void Run(DmaBuffer buf)
                {
                    using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice))
                    {
                        var page = buf.KmapAtomic(0);
                        M0();
                        buf.KunmapAtomic(0, page);
                    }
                }

            {{methods}}
            }
            """;
    }

    private static string Recursion() => Usings + """
        static class Recursive
        {
            public static void Run(DmaBuffer buf)
            {
                using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice))
                {
                    var page = buf.KmapAtomic(0);
                    Countdown(10);
                    Ping(3);
                    buf.KunmapAtomic(0, page);
                }
            }

            static int Countdown(int n) => n == 0 ? Wait() : Countdown(n - 1);

            static int Wait() { Thread.Sleep(1); return 0; }

            static void Ping(int n) { if (n > 0) Pong(n - 1); }

            static void Pong(int n) { if (n > 0) Ping(n - 1); else Console.ReadLine(); }

            static int Pure(int n) => n <= 1 ? 1 : n * Pure(n - 1);
        }
        """;

    private static string[] PartialClasses() => new[]
    {
        Usings + """
        static partial class Split
        {
            public static void Run(DmaBuffer buf)
            {
                using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice))
                {
                    var page = buf.KmapAtomic(0);
                    Flush();
                    buf.KunmapAtomic(0, page);
                }
            }
        }
        """,
        Usings + """
        static partial class Split
        {
            static void Flush() => Console.Out.Flush();
        }
        """,
    };

    // The early return leaves both the CPU access (DMA0001) and the exported reference (DMA0010) behind.
    private static string TopLevel() => Usings + """
        var buf = DmaBuffer.Export(new SystemHeapExporter(), DmaBuffer.PageSize);
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        if (args.Length > 0)
        {
            return;
        }

        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        buf.Put();
        """;

    private static string Generic() => Usings + """
        static class Generic
        {
            public static T Run<T>(DmaBuffer buf, T value, bool early)
            {
                buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
                if (early)
                {
                    return value;
                }

                buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
                return value;
            }
        }
        """;

    private static string Iterator() => Usings + """
        static class Iterator
        {
            public static IEnumerable<byte> Bytes(DmaBuffer buf)
            {
                using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice))
                {
                    var page = buf.KmapAtomic(0);
                    yield return page.Span[0];
                    buf.KunmapAtomic(0, page);
                }
            }
        }
        """;

    private static string AsyncIterator() => Usings + """
        static class AsyncIterator
        {
            public static async IAsyncEnumerable<byte> Bytes(DmaBuffer buf)
            {
                using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice))
                {
                    var page = buf.KmapAtomic(0);
                    byte b = page.Span[0];
                    await Task.Delay(1);
                    buf.KunmapAtomic(0, page);
                    yield return b;
                }
            }
        }
        """;

    // A goto loop that keeps each iteration's atomic mapping: the variable is overwritten while the mapping is
    // still held (DMA0003), the third iteration holds three atomic mappings at once (DMA0004), and the mappings
    // lost in earlier iterations are still held at EndCpuAccess, which may block (DMA0005).
    private static string GotoLoop() => Usings + """
        static class Goto
        {
            public static int Run(DmaBuffer buf, int n)
            {
                int sum = 0, i = 0;
                buf.BeginCpuAccess(0, 4 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
            again:
                var page = buf.KmapAtomic(0);
                sum += page.Span[0];
                if (++i < n)
                {
                    goto again;
                }

                buf.KunmapAtomic(0, page);
                buf.EndCpuAccess(0, 4 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
                return sum;
            }
        }
        """;
}
