// DMA0005: a call that may block while an atomic kmap is held (sleeps, locks, awaits, Task.Result, yields, iterators,
// callees, vmaps), and its message; lambdas run later, plain kmaps and calls ruled out by their arguments stay silent.
using System.Threading.Tasks;
using DmaBuf.Analyzers.Tests.Engine;
using Microsoft.CodeAnalysis.Testing;

namespace DmaBuf.Analyzers.Tests;

// DMA0005: a call that may block while an atomic kmap is held.
// What blocks is BlockingAnalysis's judgement (its own tests cover the table); these tests cover the "while held" part.
// Deliberately silent (precision first):
// - a lambda only defined while a mapping is held (it runs later, if ever); its invocation is judged;
// - a non-atomic Kmap mapping held (kmap may sleep; only atomic mappings forbid it);
// - exceptions thrown by arbitrary calls are not paths (a blocking call in a catch reached only that way is not judged);
// - a call whose only blocking way is ruled out by what it is passed: an in-memory writer (`new StringWriter()`), a
//   constant (`async: true` into `if (async) … else stream.Write(…)`), a task tested as completed before its Result.
public class DMA0005Tests
{
    private static Task Verify(string members) => AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(FlowTestCode.Class(members));

    [Fact]
    public Task DesignExampleThatSleeps() => Verify(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        var page = buf.KmapAtomic(1);
        {|DMA0005:Thread.Sleep(1)|};
        buf.KunmapAtomic(1, page);
        buf.EndCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
    }");

    [Fact]
    public Task MessageNamesCallPageAndLine()
    {
        string source = FlowTestCode.Class(@"
    void M(DmaBuffer buf)
    {
        using var page = buf.KmapAtomic(1);
        Thread.Sleep(1);
    }");
        DiagnosticResult expected = new DiagnosticResult(RuleDescriptors.DMA0005)
            .WithSpan(13, 9, 13, 24)
            .WithSpan(12, 26, 12, 43)
            .WithArguments("'Thread.Sleep(int)'", "buf", "1", 12, string.Empty);
        return AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(source, expected);
    }

    [Fact]
    public Task EndBeforeUnmap() => Verify(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        var page = buf.KmapAtomic(1);
        Checksum(page.Span);
        {|DMA0005:buf.EndCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice)|};
        buf.KunmapAtomic(1, page);
    }");

    [Fact]
    public Task NonAtomicKmapAndBeginWhileHeld() => Verify(@"
    void M(DmaBuffer buf)
    {
        using var atomic = buf.KmapAtomic(0);
        using var other = {|DMA0005:buf.Kmap(1)|};
    }

    void N(DmaBuffer buf, DmaBuffer other)
    {
        var atomic = buf.KmapAtomic(0);
        {|DMA0005:other.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice)|};
        buf.KunmapAtomic(0, atomic);
        other.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
    }");

    [Fact]
    public Task AwaitWhileHeld() => Verify(@"
    async Task M(DmaBuffer buf)
    {
        var page = buf.KmapAtomic(0);
        {|DMA0005:await Task.Delay(1)|};
        buf.KunmapAtomic(0, page);
    }");

    [Fact]
    public Task LockWhileHeld() => Verify(@"
    private readonly object _gate = new();

    void M(DmaBuffer buf)
    {
        using var page = buf.KmapAtomic(0);
        {|DMA0005:lock|} (_gate)
        {
            Checksum(page.Span);
        }
    }");

    [Fact]
    public Task MightSleepMethodAndOneThatReachesASleep() => Verify(@"
    [MightSleep]
    static void Flush() { }

    static void Wait() => Thread.Sleep(10);

    void M(DmaBuffer buf)
    {
        using var page = buf.KmapAtomic(0);
        {|DMA0005:Flush()|};
        {|DMA0005:Wait()|};
    }");

    [Fact]
    public Task TaskResultWhileHeld() => Verify(@"
    void M(DmaBuffer buf, Task<int> pending)
    {
        using var page = buf.KmapAtomic(0);
        page.Span[0] = (byte){|DMA0005:pending.Result|};
    }");

    [Fact]
    public Task LocalFunctionThatSleeps() => Verify(@"
    void M(DmaBuffer buf)
    {
        using var page = buf.KmapAtomic(0);
        {|DMA0005:Pause()|};

        static void Pause() => Thread.Sleep(1);
    }");

    [Fact]
    public Task LoopKeepsAnAtomicMapping() => Verify(@"
    void M(DmaBuffer buf, List<DmaBufPage> pages)
    {
        // Three iterations: the mappings kept pile up (DMA0004 at the third), and the iterations after the first sleep.
        for (int i = 0; i < 3; i++)
        {
            {|DMA0005:Thread.Sleep(1)|};
            pages.Add({|DMA0004:buf.KmapAtomic(0)|});
        }
    }");

    [Fact]
    public Task InFinallyBeforeTheUnmap() => Verify(@"
    void M(DmaBuffer buf)
    {
        var page = buf.KmapAtomic(0);
        try
        {
            Checksum(page.Span);
        }
        finally
        {
            {|DMA0005:Thread.Sleep(1)|};
            buf.KunmapAtomic(0, page);
        }
    }");

    [Fact]
    public Task SwitchArmAndCalleeHeldMapping() => Verify(@"
    [LeavesCpuAccessOpen]
    static DmaBufPage MapOne(DmaBuffer buf) => buf.KmapAtomic(0);

    void M(DmaBuffer buf, int mode)
    {
        var page = MapOne(buf);
        switch (mode)
        {
            case 1:
                {|DMA0005:Thread.Sleep(1)|};
                break;
        }

        buf.KunmapAtomic(0, page);
    }");

    [Fact]
    public Task YieldReturnWhileHeld() => Verify(@"
    IEnumerable<byte> Bytes(DmaBuffer buf)
    {
        var page = buf.KmapAtomic(0);
        {|DMA0005:yield return page.Span[0];|}
        buf.KunmapAtomic(0, page);
    }");

    [Fact]
    public Task MessageNamesTheChainThroughAnInterface()
    {
        string source = FlowTestCode.Usings + """
            public interface IStore { void Save(); }

            sealed class FileStore : IStore
            {
                private readonly object _gate = new();
                public void Save() => Flush();
                private void Flush() { lock (_gate) { } }
            }

            class C
            {
                void M(DmaBuffer buf, IStore store)
                {
                    using var page = buf.KmapAtomic(0);
                    {|#0:store.Save()|};
                }
            }
            """;
        DiagnosticResult expected = new DiagnosticResult(RuleDescriptors.DMA0005)
            .WithLocation(0)
            .WithSpan(20, 26, 20, 43)
            .WithArguments("'IStore.Save()'", "buf", "0", 20, " (→ FileStore.Save → Flush → lock at line 13)");
        return AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(source, expected);
    }

    [Fact]
    public Task ForeachOverAnIteratorThatSleeps() => Verify(@"
    static IEnumerable<int> Slowly()
    {
        Thread.Sleep(1);
        yield return 1;
    }

    void M(DmaBuffer buf)
    {
        using var page = buf.KmapAtomic(0);
        foreach (int x in {|DMA0005:Slowly()|})
        {
            page.Span[0] = (byte)x;
        }
    }");

    // ---- Valid ----------------------------------------------------------------------------------------------------

    [Fact]
    public Task Valid_CallsRuledOutByWhatTheyArePassed() => Verify(@"
    static void Log(System.IO.TextWriter writer, int value) => writer.Write(value);

    static async Task Send(bool async, System.IO.Stream stream, byte[] data)
    {
        if (async)
            await stream.WriteAsync(data, 0, data.Length);
        else
            stream.Write(data, 0, data.Length);
    }

    int M(DmaBuffer buf, System.IO.Stream stream, Task<int> pending)
    {
        if (!pending.IsCompleted)
            return 0;

        using var page = buf.KmapAtomic(0);
        var log = new System.IO.StringWriter();
        Log(log, page.Span[0]);
        _ = Send(async: true, stream, page.Span.ToArray());
        return pending.Result;
    }");

    [Fact]
    public Task Valid_DesignExamples() => Verify(FlowTestCode.DesignExamples);

    [Fact]
    public Task Valid_BlockingBeforeAndAfter() => Verify(@"
    void M(DmaBuffer buf)
    {
        Thread.Sleep(1);
        using (var page = buf.KmapAtomic(0))
            Checksum(page.Span);
        Thread.Sleep(1);
        using var other = buf.Kmap(1);
    }");

    [Fact]
    public Task Valid_LambdaDefinedWhileHeldRunsLater() => Verify(@"
    void M(DmaBuffer buf)
    {
        Action later;
        using (var page = buf.KmapAtomic(0))
        {
            later = () => Thread.Sleep(1);
        }

        later();
    }");

    [Fact]
    public Task Valid_NonBlockingWorkWhileHeld() => Verify(@"
    static int Sum(Span<byte> span)
    {
        int sum = 0;
        foreach (byte b in span)
            sum += b;
        return sum;
    }

    int M(DmaBuffer buf)
    {
        var n = buf.Kmap(1);
        var a = buf.KmapAtomic(0);
        int sum = Sum(a.Span) + a.Span.Length;
        buf.Kunmap(1, n);
        buf.KunmapAtomic(0, a);
        return sum;
    }");

    [Fact]
    public Task Valid_NonAtomicMappingMaySleep() => Verify(@"
    async Task M(DmaBuffer buf)
    {
        var page = buf.Kmap(0);
        Thread.Sleep(1);
        await Task.Yield();
        buf.Kunmap(0, page);
    }");

    [Fact]
    public Task Valid_AsyncAwaitOutsideTheMapping() => Verify(@"
    async Task M(DmaBuffer buf)
    {
        await Task.Yield();
        using (var page = buf.KmapAtomic(0))
            Checksum(page.Span);
        await Task.Yield();
    }");

    [Fact]
    public Task Valid_SourceMethodThatDoesNotBlock() => Verify(@"
    static int Twice(int x) => x * 2;

    void M(DmaBuffer buf)
    {
        using var page = buf.KmapAtomic(0);
        page.Span[0] = (byte)Twice(page.Span[1]);
    }");

    [Fact]
    public Task Valid_LookAlikeTypes() => AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(LookAlike.Source + @"
class C
{
    void M(Fake.DmaBuffer buf)
    {
        var page = buf.KmapAtomic(0);
        System.Threading.Thread.Sleep(1);
        buf.KunmapAtomic(0, page);
    }
}");

    [Fact]
    public Task Valid_GeneratedCode() => AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync("// <auto-generated/>\n" + FlowTestCode.Class(@"
    void M(DmaBuffer buf)
    {
        using var page = buf.KmapAtomic(0);
        Thread.Sleep(1);
    }"));

    [Fact]
    public Task Valid_CodeThatDoesNotCompileYet() => Verify(@"
    void M(DmaBuffer buf)
    {
        using var page = buf.KmapAtomic(0);
        {|CS0103:Sleepy|}(1);
        Thread.{|CS0117:Slep|}(1);
    }");

    // Vmap and Vunmap (and a vmap's Dispose) may block: [MightSleep] in the runtime.
    [Fact]
    public Task VmapAndVunmapWhileAtomicHeld() => Verify(@"
    void M(DmaBuffer buf, DmaBuffer other)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        var page = buf.KmapAtomic(0);
        var map = {|DMA0005:other.Vmap()|};
        {|DMA0005:other.Vunmap(map)|};
        buf.KunmapAtomic(0, page);
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
    }");

    [Fact]
    public Task VmapDisposeAndWholeBufferAccessWhileAtomicHeld() => Verify(@"
    void M(DmaBuffer buf, DmaBuffer other)
    {
        var map = other.Vmap();
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        var page = buf.KmapAtomic(0);
        {|DMA0005:other.BeginCpuAccess(DmaDataDirection.FromDevice)|};
        {|DMA0005:other.EndCpuAccess(DmaDataDirection.FromDevice)|};
        {|DMA0005:map.Dispose()|};
        buf.KunmapAtomic(0, page);
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
    }");

    [Fact]
    public Task VmapOutsideAtomicIsSilent() => Verify(@"
    void M(DmaBuffer buf)
    {
        using var map = buf.Vmap();
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        using (var page = buf.KmapAtomic(0))
            map.GetSpan(0, 16).CopyTo(page.Span);
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
    }");
}
