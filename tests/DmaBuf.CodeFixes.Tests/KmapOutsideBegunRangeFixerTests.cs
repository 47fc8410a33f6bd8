// Tests of "Widen the CPU access to page N" (DMA0006): the begin (or scope) and its ends widened to a constant page,
// the pages a loop or helper maps, or over a range held in locals; none where an end names another range or the code
// catches the kmap's out-of-range failure.
using System.Threading.Tasks;
using Verify = DmaBuf.CodeFixes.Tests.CodeFixVerifier<DmaBuf.Analyzers.Rules.DmaBufFlowAnalyzer, DmaBuf.CodeFixes.KmapOutsideBegunRangeFixer>;

namespace DmaBuf.CodeFixes.Tests;

public class KmapOutsideBegunRangeFixerTests
{
    private const string Key = KmapOutsideBegunRangeFixer.WidenAccessKey;

    [Fact]
    public Task ScopeIsWidenedToThePage() => Verify.VerifyAsync(Verify.Class(@"
    byte M(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice))
        using (var page = {|DMA0006:buf.KmapAtomic(2)|})
        {
            return page.Span[0];
        }
    }"), Verify.Class(@"
    byte M(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.FromDevice))
        using (var page = buf.KmapAtomic(2))
        {
            return page.Span[0];
        }
    }"), Key);

    [Fact]
    public Task NestedKmapWidensTheBeginAndItsEnd() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf, bool fill)
    {
        buf.BeginCpuAccess(2 * DmaBuffer.PageSize, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        if (fill)
        {
            var page = {|DMA0006:buf.Kmap(0)|};
            page.Span.Fill(1);
            buf.Kunmap(0, page);
        }
        buf.EndCpuAccess(2 * DmaBuffer.PageSize, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }"), Verify.Class(@"
    void M(DmaBuffer buf, bool fill)
    {
        buf.BeginCpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        if (fill)
        {
            var page = buf.Kmap(0);
            page.Span.Fill(1);
            buf.Kunmap(0, page);
        }
        buf.EndCpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }"), Key);

    // Two pages outside one access: each fix widens the same begin, so they must run one after the other; the
    // second sees the first's range and widens it further. One Fix All pass does both.
    [Fact]
    public Task FixAllWidensOnceForEveryPage() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        var a = {|DMA0006:buf.Kmap(1)|};
        a.Span.Fill(1);
        buf.Kunmap(1, a);
        var b = {|DMA0006:buf.Kmap(3)|};
        b.Span.Fill(2);
        buf.Kunmap(3, b);
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }"), Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 4 * DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        var a = buf.Kmap(1);
        a.Span.Fill(1);
        buf.Kunmap(1, a);
        var b = buf.Kmap(3);
        b.Span.Fill(2);
        buf.Kunmap(3, b);
        buf.EndCpuAccess(0, 4 * DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }"), Key, iterations: 2);

    [Fact]
    public Task WidenKeepsComments() => Verify.VerifyAsync(Verify.Class(@"
    byte M(DmaBuffer buf)
    {
        // the first two pages
        using (buf.CpuAccess(0, /* bytes */ 2 * DmaBuffer.PageSize /* two */, DmaDataDirection.FromDevice)) // scope
        using (var page = {|DMA0006:buf.KmapAtomic(2)|})
        {
            return page.Span[0];
        }
    }"), Verify.Class(@"
    byte M(DmaBuffer buf)
    {
        // the first two pages
        using (buf.CpuAccess(0, /* bytes */ 3 * DmaBuffer.PageSize /* two */, DmaDataDirection.FromDevice)) // scope
        using (var page = buf.KmapAtomic(2))
        {
            return page.Span[0];
        }
    }"), Key);

    // A loop maps pages 0..3 (the analysis counts the iterations); the begin and its end cover them all.
    [Fact]
    public Task LoopWidensToThePagesItMaps() => Verify.VerifyAsync(Verify.Class(@"
    int M()
    {
        var buf = DmaBuffer.Export(new SystemHeapExporter(), 4 * DmaBuffer.PageSize);
        int sum = 0;
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        for (long p = 0; p < buf.PageCount; p++)
        {
            using var page = {|DMA0006:buf.Kmap(p)|};
            sum += page.Span[0];
        }
        buf.EndCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        buf.Put();
        return sum;
    }"), Verify.Class(@"
    int M()
    {
        var buf = DmaBuffer.Export(new SystemHeapExporter(), 4 * DmaBuffer.PageSize);
        int sum = 0;
        buf.BeginCpuAccess(0, 4 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        for (long p = 0; p < buf.PageCount; p++)
        {
            using var page = buf.Kmap(p);
            sum += page.Span[0];
        }
        buf.EndCpuAccess(0, 4 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        buf.Put();
        return sum;
    }"), Key);

    [Fact]
    public Task HelperCallWidensToThePageItMaps() => Verify.VerifyAsync(Verify.Class(@"
    static byte Touch(DmaBuffer b, long page)
    {
        using var mapped = b.Kmap(page);
        return mapped.Span[0];
    }

    int M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        int high = {|DMA0006:Touch(buf, 3)|};
        buf.EndCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        return high;
    }"), Verify.Class(@"
    static byte Touch(DmaBuffer b, long page)
    {
        using var mapped = b.Kmap(page);
        return mapped.Span[0];
    }

    int M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 4 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        int high = Touch(buf, 3);
        buf.EndCpuAccess(0, 4 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        return high;
    }"), Key);

    [Fact]
    public Task NoFixWhenAnEndNamesAnotherRange() => Verify.VerifyNoFixAsync(Verify.Class(@"
    void M(DmaBuffer buf, bool early)
    {
        const long length = DmaBuffer.PageSize;
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        var page = {|DMA0006:buf.Kmap(1)|};
        page.Span.Fill(1);
        buf.Kunmap(1, page);
        buf.EndCpuAccess(0, length, DmaDataDirection.ToDevice);
    }"), Key);

    // A range held in a deconstructed tuple: the analysis knows its bytes, and the widened range is written over the
    // code's own locals, so that they keep their meaning.
    [Fact]
    public Task TupleRangeIsWidenedDownWithItsLocals() => Verify.VerifyAsync(Verify.Class(@"
    int M(DmaBuffer buf)
    {
        var (start, length) = (DmaBuffer.PageSize, 2 * DmaBuffer.PageSize);
        using (buf.CpuAccess(start, length, DmaDataDirection.FromDevice)) // body
        {
            using var header = {|DMA0006:buf.Kmap(0)|};
            return header.Span[0];
        }
    }"), Verify.Class(@"
    int M(DmaBuffer buf)
    {
        var (start, length) = (DmaBuffer.PageSize, 2 * DmaBuffer.PageSize);
        using (buf.CpuAccess(0, start + length, DmaDataDirection.FromDevice)) // body
        {
            using var header = buf.Kmap(0);
            return header.Span[0];
        }
    }"), Key);

    // Locals for the range of a begin and its end, a page above it: the start stays, the length reaches the page.
    [Fact]
    public Task LocalRangeIsWidenedUpInTheBeginAndItsEnd() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buffer)
    {
        long offset = 2 * DmaBuffer.PageSize;
        long size = DmaBuffer.PageSize;
        buffer.BeginCpuAccess(offset, size, DmaDataDirection.ToDevice);
        var page = {|DMA0006:buffer.Kmap(3)|};
        page.Span.Fill(1);
        buffer.Kunmap(3, page);
        buffer.EndCpuAccess(offset, size, DmaDataDirection.ToDevice);
    }"), Verify.Class(@"
    void M(DmaBuffer buffer)
    {
        long offset = 2 * DmaBuffer.PageSize;
        long size = DmaBuffer.PageSize;
        buffer.BeginCpuAccess(offset, 4 * DmaBuffer.PageSize - offset, DmaDataDirection.ToDevice);
        var page = buffer.Kmap(3);
        page.Span.Fill(1);
        buffer.Kunmap(3, page);
        buffer.EndCpuAccess(offset, 4 * DmaBuffer.PageSize - offset, DmaDataDirection.ToDevice);
    }"), Key);

    // The start moves down to a page above 0: the end the locals give stays, less the new start.
    [Fact]
    public Task TupleRangeIsWidenedDownToAPageAboveZero() => Verify.VerifyAsync(Verify.Class(@"
    byte M(DmaBuffer buf)
    {
        var (first, count) = (2 * DmaBuffer.PageSize, DmaBuffer.PageSize);
        using var access = buf.CpuAccess(first, count, DmaDataDirection.Bidirectional);
        using var page = {|DMA0006:buf.KmapAtomic(1)|};
        return page.Span[0];
    }"), Verify.Class(@"
    byte M(DmaBuffer buf)
    {
        var (first, count) = (2 * DmaBuffer.PageSize, DmaBuffer.PageSize);
        using var access = buf.CpuAccess(DmaBuffer.PageSize, first + count - DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
        using var page = buf.KmapAtomic(1);
        return page.Span[0];
    }"), Key);

    // The code expects this kmap may fail with the page outside the buffer: a widened begin would throw out of the handler.
    [Fact]
    public Task NoWideningForAKmapWhoseOutOfRangeFailureIsCaught() => Verify.VerifyNoFixAsync(Verify.Class(@"
    bool M(DmaBuffer buf)
    {
        DmaBufPage? page;
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        try { page = {|DMA0006:buf.Kmap(2)|}; } catch (System.ArgumentException) { page = null; }
        bool mapped = page.HasValue;
        if (page.HasValue)
            buf.Kunmap(2, page.Value);
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        return mapped;
    }"), Key);

    // A handler of the exporter's failures only: an out-of-range page was not expected, so the access is widened.
    [Fact]
    public Task AKmapInATryForExporterFailuresIsWidened() => Verify.VerifyAsync(Verify.Class(@"
    bool M(DmaBuffer buf)
    {
        DmaBufPage? page;
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        try { page = {|DMA0006:buf.Kmap(1)|}; } catch (DmaBufException) { page = null; }
        bool mapped = page.HasValue;
        if (page.HasValue)
            buf.Kunmap(1, page.Value);
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        return mapped;
    }"), Verify.Class(@"
    bool M(DmaBuffer buf)
    {
        DmaBufPage? page;
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        try { page = buf.Kmap(1); } catch (DmaBufException) { page = null; }
        bool mapped = page.HasValue;
        if (page.HasValue)
            buf.Kunmap(1, page.Value);
        buf.EndCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        return mapped;
    }"), Key);
}
