// DMA0007: a kmap or a vmap's GetSpan with no CPU access begun on its buffer, before the begin, on some path only or
// after the end; buffers the caller may have begun, handed away, captured or reassigned stay silent.
using System.Threading.Tasks;
using DmaBuf.Analyzers.Tests.Engine;
using Microsoft.CodeAnalysis.Testing;

namespace DmaBuf.Analyzers.Tests;

// DMA0007: a kmap with no CPU access begun on that buffer, or after it was ended.
// Deliberately silent (precision first):
// - a parameter, field or other buffer this method neither begins access on nor created: the caller may have begun it
//   (unless every path reaching the kmap ended it here: then "after it was ended" is reported);
// - a buffer handed to another method (e.g. an [LeavesCpuAccessOpen] Open) before the kmap: that code may have begun it;
// - a buffer captured by a lambda or local function, or a receiver reassigned in between;
// - "no access begun on some path" for a buffer the method does not manage.
public class DMA0007Tests
{
    private static Task Verify(string members) => AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(FlowTestCode.Class(members));

    [Fact]
    public Task CreatedBufferNeverBegun() => Verify(@"
    void M()
    {
        var buf = DmaBuffer.Export(new SystemHeapExporter(), 8192);
        var page = {|DMA0007:buf.Kmap(0)|};
        buf.Kunmap(0, page);
        buf.Put();
    }");

    [Fact]
    public Task KmapBeforeTheBegin() => Verify(@"
    void M(DmaBuffer buf)
    {
        using (var early = {|DMA0007:buf.KmapAtomic(0)|})
            Checksum(early.Span);
        buf.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        using (var page = buf.KmapAtomic(0))
            Checksum(page.Span);
        buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
    }");

    [Fact]
    public Task AfterEndOnParameter() => Verify(@"
    void M(DmaBuffer buf)
    {
        buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        using var page = {|DMA0007:buf.Kmap(0)|};
    }");

    [Fact]
    public Task DesignExampleWithKmapAfterTheEnd() => Verify(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        buf.EndCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        var page = {|DMA0007:buf.KmapAtomic(1)|};
        Checksum(page.Span);
        buf.KunmapAtomic(1, page);
    }");

    [Fact]
    public Task AfterScopeDisposed() => Verify(@"
    void M(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, 4096, DmaDataDirection.FromDevice))
        {
        }

        using var page = {|DMA0007:buf.Kmap(0)|};
    }");

    [Fact]
    public Task BegunOnlyOnSomePath() => Verify(@"
    void M(DmaBuffer buf, bool fast)
    {
        if (fast)
            buf.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        using (var page = {|DMA0007:buf.Kmap(0)|})
            Checksum(page.Span);
        {|DMA0002:buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice)|};
    }");

    [Fact]
    public Task AfterLoopThatEnds() => Verify(@"
    void M(DmaBuffer buf)
    {
        for (int i = 0; i < 3; i++)
        {
            buf.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice);
            buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        }

        using var page = {|DMA0007:buf.Kmap(0)|};
    }");

    [Fact]
    public Task LambdaAndLocalFunction() => Verify(@"
    void M(DmaBuffer buf)
    {
        Action<DmaBuffer> after = b =>
        {
            b.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
            using var page = {|DMA0007:b.Kmap(0)|};
        };
        Use(after);
        Before(buf);

        static void Before(DmaBuffer b)
        {
            using (var page = {|DMA0007:b.Kmap(0)|})
                Checksum(page.Span);
            b.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice);
            b.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        }
    }");

    [Fact]
    public Task AsyncAfterEnd() => Verify(@"
    async Task M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        await Task.Yield();
        using var page = {|DMA0007:buf.Kmap(0)|};
    }");

    [Fact]
    public Task SiblingBufferNotBegun() => Verify(@"
    void M(DmaBuffer a, int fd)
    {
        var b = DmaBuffer.Get(fd);
        a.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        using (var page = {|DMA0007:b.Kmap(0)|})
            Checksum(page.Span);
        a.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        b.Put();
    }");

    [Fact]
    public Task AfterTryFinallyEnded() => Verify(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        try
        {
            Console.WriteLine();
        }
        finally
        {
            buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        }

        using var page = {|DMA0007:buf.Kmap(0)|};
    }");

    [Fact]
    public Task SwitchArmEndsEarly() => Verify(@"
    void M(DmaBuffer buf, int mode)
    {
        using var scope = buf.CpuAccess(0, 4096, DmaDataDirection.FromDevice);
        switch (mode)
        {
            case 0:
                scope.Dispose();
                using (var page = {|DMA0007:buf.Kmap(0)|})
                    Checksum(page.Span);
                break;
        }
    }");

    // ---- Valid ----------------------------------------------------------------------------------------------------

    [Fact]
    public Task Valid_DesignExamples() => Verify(FlowTestCode.DesignExamples);

    [Fact]
    public Task Valid_ParameterAndFieldMayBeBegunByTheCaller() => Verify(@"
    private readonly DmaBuffer _buf = null!;

    void M(DmaBuffer buf)
    {
        using var page = buf.Kmap(0);
        using var other = _buf.Kmap(0);
    }");

    [Fact]
    public Task Valid_BegunAgainAfterEnd() => Verify(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        buf.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        using (var page = buf.Kmap(0))
            page.Span.Clear();
        buf.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice);
    }");

    [Fact]
    public Task Valid_LoopBeginsEachIteration() => Verify(@"
    void M(DmaBuffer buf)
    {
        for (long p = 0; p < 4; p++)
        {
            using (buf.CpuAccess(p * DmaBuffer.PageSize, DmaBuffer.PageSize, DmaDataDirection.FromDevice))
            using (var page = buf.Kmap(p))
                Checksum(page.Span);
        }
    }");

    [Fact]
    public Task Valid_HandedToOpenMethodFirst() => Verify(@"
    [LeavesCpuAccessOpen]
    static void Open(DmaBuffer buf) => buf.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice);

    [ClosesCpuAccess]
    static void Close(DmaBuffer buf) => buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);

    void M(int fd)
    {
        var buf = DmaBuffer.Get(fd);
        Open(buf);
        using (var page = buf.Kmap(0))
            Checksum(page.Span);
        Close(buf);
        buf.Put();
    }");

    [Fact]
    public Task Valid_EndedOnlyOnSomePathOfAParameter() => Verify(@"
    void M(DmaBuffer buf, bool done)
    {
        if (done)
            buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        using var page = buf.Kmap(0);
    }");

    [Fact]
    public Task Valid_AsyncBeginAwaitKmap() => Verify(@"
    async Task M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        await Task.Yield();
        using (var page = buf.Kmap(0))
            page.Span.Clear();
        buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
    }");

    [Fact]
    public Task Valid_CapturedOrReassignedBuffer() => Verify(@"
    void M(DmaBuffer a, DmaBuffer b)
    {
        var buf = a;
        buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        buf = b;
        using (var page = buf.Kmap(0))
            page.Span.Clear();

        a.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        Action act = () => a.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        act();
        using var other = a.Kmap(0);
    }");

    [Fact]
    public Task Valid_LookAlikeTypes() => AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(LookAlike.Source + @"
class C
{
    void M(Fake.DmaBuffer buf)
    {
        buf.EndCpuAccess(0, 4096, Fake.DmaDataDirection.ToDevice);
        using var page = buf.Kmap(0);
    }
}");

    [Fact]
    public Task Valid_GeneratedCode() => AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync("// <auto-generated/>\n" + FlowTestCode.Class(@"
    void M()
    {
        var buf = DmaBuffer.Export(new SystemHeapExporter(), 8192);
        using var page = buf.Kmap(0);
    }"));

    [Fact]
    public Task Valid_CodeThatDoesNotCompileYet() => Verify(@"
    void M(DmaBuffer buf)
    {
        buf.EndCpuAccess(0, 4096, {|CS0103:dir|});
        using var page = {|CS0103:other|}.Kmap(0);
    }");

    // Access to a vmap's bytes (GetSpan) with no CPU access begun on the vmap's buffer, or after it was ended.
    [Fact]
    public Task Vmap_AccessWithoutBegunAccessOnManagedBuffer() => Verify(@"
    void M()
    {
        var buf = DmaBuffer.Export(new SystemHeapExporter(), 8192);
        var map = buf.Vmap();
        Checksum({|DMA0007:map.GetSpan(0, 64)|});
        buf.Vunmap(map);
        buf.Put();
    }");

    [Fact]
    public Task Vmap_MessageNamesVmapAndBuffer()
    {
        string source = FlowTestCode.Class(@"
    void M()
    {
        var buf = DmaBuffer.Export(new SystemHeapExporter(), 8192);
        var map = buf.Vmap();
        Checksum(map.GetSpan(0, 64));
        buf.Vunmap(map);
        buf.Put();
    }");
        DiagnosticResult expected = new DiagnosticResult(RuleDescriptors.DMA0007Vmap)
            .WithSpan(14, 18, 14, 36)
            .WithArguments("buf", 13, "no CPU access is begun");
        return AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(source, expected);
    }

    [Fact]
    public Task Vmap_AccessAfterEnd() => Verify(@"
    void M(DmaBuffer buf)
    {
        var map = buf.Vmap();
        buf.BeginCpuAccess(DmaDataDirection.ToDevice);
        map.GetSpan(0, 64).Clear();
        buf.EndCpuAccess(DmaDataDirection.ToDevice);
        {|DMA0007:map.GetSpan(0, 64)|}.Clear();
        buf.Vunmap(map);
    }");

    [Fact]
    public Task Vmap_AccessOnSomePathWithoutBegin() => Verify(@"
    void M(DmaBuffer buf, bool begin)
    {
        using var map = buf.Vmap();
        if (begin)
            buf.BeginCpuAccess(DmaDataDirection.FromDevice);
        Checksum({|DMA0007:map.GetSpan(0, 64)|});
        if (begin)
            buf.EndCpuAccess(DmaDataDirection.FromDevice);
    }");

    [Fact]
    public Task Vmap_AnyBegunAccessCounts() => Verify(@"
    void M(DmaBuffer buf)
    {
        using var map = buf.Vmap();
        using (buf.CpuAccess(0, 4096, DmaDataDirection.FromDevice))
            Checksum(map.GetSpan(0, 64));
        using (buf.CpuAccess(DmaDataDirection.FromDevice))
            Checksum(map.GetSpan(4096, 64));
    }");

    [Fact]
    public Task Vmap_CallerMayHaveBegunIsSilent() => Verify(@"
    void M(DmaBuffer buf)
    {
        using var map = buf.Vmap();
        Checksum(map.GetSpan(0, 64));
    }

    void N(DmaBufVmap map) => Checksum(map.GetSpan(0, 64));");

    [Fact]
    public Task Vmap_AccessThroughAnotherBuffersAccessIsReported() => Verify(@"
    void M(DmaBuffer a)
    {
        var b = DmaBuffer.Export(new SystemHeapExporter(), 4096);
        using var map = b.Vmap();
        using (a.CpuAccess(DmaDataDirection.FromDevice))
            Checksum({|DMA0007:map.GetSpan(0, 64)|});
        b.Put();
    }");
}
