// Tests of the DMA0005 fixes: the atomic unmap moved before the call that may block, or the page mapped with Kmap
// instead; none where the page is used after the blocking call or another atomic mapping is held.
using System.Threading.Tasks;
using Verify = DmaBuf.CodeFixes.Tests.CodeFixVerifier<DmaBuf.Analyzers.Rules.DmaBufFlowAnalyzer, DmaBuf.CodeFixes.BlockingInAtomicFixer>;

namespace DmaBuf.CodeFixes.Tests;

public class BlockingInAtomicFixerTests
{
    private const string Before = BlockingInAtomicFixer.UnmapBeforeKey;
    private const string UseKmap = BlockingInAtomicFixer.UseKmapKey;

    private const string Sample = @"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        var page = buf.KmapAtomic(0);
        page.Span.Fill(1);
        {|DMA0005:Thread.Sleep(1)|};
        buf.KunmapAtomic(0, page);
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }";

    // ---- DMA0005.UnmapBefore ----

    [Fact]
    public Task UnmapMovesBeforeTheSleep() => Verify.VerifyAsync(Verify.Class(Sample), Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        var page = buf.KmapAtomic(0);
        page.Span.Fill(1);
        buf.KunmapAtomic(0, page);
        Thread.Sleep(1);
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }"), Before);

    [Fact]
    public Task NestedUnmapMovesBeforeTheLock() => Verify.VerifyAsync(Verify.Class(@"
    readonly object _gate = new object();
    int _fills;

    void M(DmaBuffer buf, bool fill)
    {
        using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice))
        {
            if (fill)
            {
                var page = buf.KmapAtomic(0);
                page.Span.Fill(1);
                {|DMA0005:lock|} (_gate)
                {
                    _fills++;
                }
                buf.KunmapAtomic(0, page);
            }
        }
    }"), Verify.Class(@"
    readonly object _gate = new object();
    int _fills;

    void M(DmaBuffer buf, bool fill)
    {
        using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice))
        {
            if (fill)
            {
                var page = buf.KmapAtomic(0);
                page.Span.Fill(1);
                buf.KunmapAtomic(0, page);
                lock (_gate)
                {
                    _fills++;
                }
            }
        }
    }"), Before);

    // Two blocking calls under one mapping: the first fix moves the unmap before the first call, which also frees the
    // second; the second diagnostic's plan then finds the unmap before it and declines. One Fix All pass.
    [Fact]
    public Task FixAllMovesEachUnmapOnce() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        var a = buf.KmapAtomic(0);
        a.Span.Fill(1);
        {|DMA0005:Thread.Sleep(1)|};
        {|DMA0005:Thread.Sleep(2)|};
        buf.KunmapAtomic(0, a);
        var b = buf.KmapAtomic(1);
        b.Span.Fill(2);
        {|DMA0005:Thread.Sleep(3)|};
        buf.KunmapAtomic(1, b);
        buf.EndCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }"), Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        var a = buf.KmapAtomic(0);
        a.Span.Fill(1);
        buf.KunmapAtomic(0, a);
        Thread.Sleep(1);
        Thread.Sleep(2);
        var b = buf.KmapAtomic(1);
        b.Span.Fill(2);
        buf.KunmapAtomic(1, b);
        Thread.Sleep(3);
        buf.EndCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }"), Before, iterations: 2);

    [Fact]
    public Task UnmapBeforeKeepsComments() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        var page = buf.KmapAtomic(0);
        page.Span.Fill(1);
        // give the device time
        {|DMA0005:Thread.Sleep(1)|}; // one millisecond
        // release the page
        buf.KunmapAtomic(0, page); // unmapped
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }"), Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        var page = buf.KmapAtomic(0);
        page.Span.Fill(1);
        // release the page
        buf.KunmapAtomic(0, page); // unmapped
        // give the device time
        Thread.Sleep(1); // one millisecond
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }"), Before);

    [Fact]
    public Task NoUnmapBeforeWhenThePageIsUsedAfterTheSleep() => Verify.VerifyNoFixAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        var page = buf.KmapAtomic(0);
        {|DMA0005:Thread.Sleep(1)|};
        page.Span.Fill(1);
        buf.KunmapAtomic(0, page);
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }"), Before);

    // ---- DMA0005.UseKmap ----

    [Fact]
    public Task AtomicMappingBecomesKmap() => Verify.VerifyAsync(Verify.Class(Sample), Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        var page = buf.Kmap(0);
        page.Span.Fill(1);
        Thread.Sleep(1);
        buf.Kunmap(0, page);
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }"), UseKmap);

    [Fact]
    public Task NestedUsingMappingBecomesKmap() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf, bool wait)
    {
        using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice))
        {
            if (wait)
            {
                using (var page = buf.KmapAtomic(0))
                {
                    {|DMA0005:Thread.Sleep(1)|};
                    page.Span.Fill(1);
                }
            }
        }
    }"), Verify.Class(@"
    void M(DmaBuffer buf, bool wait)
    {
        using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice))
        {
            if (wait)
            {
                using (var page = buf.Kmap(0))
                {
                    Thread.Sleep(1);
                    page.Span.Fill(1);
                }
            }
        }
    }"), UseKmap);

    // Two methods, one mapping reported at two blocking calls: the second plan finds Kmap already and declines.
    [Fact]
    public Task FixAllMapsEachPageWithKmapOnce() => Verify.VerifyAsync(Verify.Class(@"
    void A(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice))
        {
            using var page = buf.KmapAtomic(0);
            {|DMA0005:Thread.Sleep(1)|};
            page.Span.Fill(1);
            {|DMA0005:Thread.Sleep(2)|};
        }
    }

    void B(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        var page = buf.KmapAtomic(0);
        {|DMA0005:Thread.Sleep(1)|};
        page.Span.Fill(1);
        buf.KunmapAtomic(0, page);
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }"), Verify.Class(@"
    void A(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice))
        {
            using var page = buf.Kmap(0);
            Thread.Sleep(1);
            page.Span.Fill(1);
            Thread.Sleep(2);
        }
    }

    void B(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        var page = buf.Kmap(0);
        Thread.Sleep(1);
        page.Span.Fill(1);
        buf.Kunmap(0, page);
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }"), UseKmap, iterations: 2);

    [Fact]
    public Task UseKmapKeepsComments() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        var page = buf./* map */ KmapAtomic(0 /* first */); // mapped
        {|DMA0005:Thread.Sleep(1)|};
        page.Span.Fill(1);
        buf.KunmapAtomic /* unmap */ (0, page); // unmapped
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }"), Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        var page = buf./* map */ Kmap(0 /* first */); // mapped
        Thread.Sleep(1);
        page.Span.Fill(1);
        buf.Kunmap /* unmap */ (0, page); // unmapped
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }"), UseKmap);

    [Fact]
    public Task NoKmapWhileAnotherAtomicMappingIsHeld() => Verify.VerifyNoFixAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        var a = buf.KmapAtomic(0);
        var b = buf.KmapAtomic(1);
        a.Span.CopyTo(b.Span);
        buf.KunmapAtomic(0, a);
        {|DMA0005:Thread.Sleep(1)|};
        buf.KunmapAtomic(1, b);
        buf.EndCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }"), UseKmap);

    // The mapping is stored from a try of its own into a local declared before it (copy_to_user under kmap_atomic).
    [Fact]
    public Task StoredAtomicMappingBecomesKmap() => Verify.VerifyAsync(Verify.Class(@"
    int M(DmaBuffer buf, System.IO.Stream user)
    {
        DmaBufPage? vaddr;
        try
        {
            vaddr = buf.KmapAtomic(0);
        }
        catch (DmaBufException)
        {
            vaddr = null;
        }

        if (vaddr == null)
            return -14;
        {|DMA0005:user.Write(vaddr.Value.Span)|};
        buf.KunmapAtomic(0, vaddr.Value);
        return 0;
    }"), Verify.Class(@"
    int M(DmaBuffer buf, System.IO.Stream user)
    {
        DmaBufPage? vaddr;
        try
        {
            vaddr = buf.Kmap(0);
        }
        catch (DmaBufException)
        {
            vaddr = null;
        }

        if (vaddr == null)
            return -14;
        user.Write(vaddr.Value.Span);
        buf.Kunmap(0, vaddr.Value);
        return 0;
    }"), UseKmap);
}
