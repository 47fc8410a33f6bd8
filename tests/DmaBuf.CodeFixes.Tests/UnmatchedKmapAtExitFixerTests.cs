// Tests of "Unmap page N before this return" (DMA0003.UnmapBeforeExit): an early return between the kmap and its
// unmap, the unmap going before the end of access at that way out; a page held in a DmaBufPage? local.
using System.Threading.Tasks;
using Verify = DmaBuf.CodeFixes.Tests.CodeFixVerifier<DmaBuf.Analyzers.Rules.DmaBufFlowAnalyzer, DmaBuf.CodeFixes.UnmatchedKmapAtExitFixer>;

namespace DmaBuf.CodeFixes.Tests;

public class UnmatchedKmapAtExitFixerTests
{
    private const string Key = UnmatchedKmapAtExitFixer.UnmapBeforeExitKey;

    // Formatting the page into a string keeps nothing: the early return still gets its unmap.
    [Fact]
    public Task InterpolatedPageIsNotAnEscape() => Verify.VerifyAsync(Verify.Class(@"
    string M(DmaBuffer buf)
    {
        using var access = buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        var page = buf.Kmap(0);
        string text = $""{page}: {page.Span[0]:x2}"";
        if (page.Span[0] == 0)
            {|DMA0003:return text + "" (empty)"";|}
        buf.Kunmap(0, page);
        return text;
    }"), Verify.Class(@"
    string M(DmaBuffer buf)
    {
        using var access = buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        var page = buf.Kmap(0);
        string text = $""{page}: {page.Span[0]:x2}"";
        if (page.Span[0] == 0)
        {
            buf.Kunmap(0, page);
            return text + "" (empty)"";
        }

        buf.Kunmap(0, page);
        return text;
    }"), Key);

    [Fact]
    public Task EarlyReturnUnmapsBeforeTheEnd() => Verify.VerifyAsync(Verify.Class(@"
    int M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        var page = buf.Kmap(0);
        if (page.Span[0] == 0)
        {
            buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
            {|DMA0003:return -1;|} // empty
        }

        int first = page.Span[0];
        buf.Kunmap(0, page);
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        return first;
    }"), Verify.Class(@"
    int M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        var page = buf.Kmap(0);
        if (page.Span[0] == 0)
        {
            buf.Kunmap(0, page);
            buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
            return -1; // empty
        }

        int first = page.Span[0];
        buf.Kunmap(0, page);
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        return first;
    }"), Key);

    // A page mapped under a condition into a DmaBufPage?: the pattern variable that matched it holds it at the return.
    [Fact]
    public Task NullablePageIsUnmappedThroughThePatternVariable() => Verify.VerifyAsync(Verify.Class(@"
    bool M(DmaBuffer buf, bool check)
    {
        using var access = buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        DmaBufPage? page = check ? buf.Kmap(0) : null;
        if (page is { } p && p.Span[0] == 0x7F)
            {|DMA0003:return true;|} // magic
        if (page.HasValue)
            buf.Kunmap(0, page.Value);
        return false;
    }"), Verify.Class(@"
    bool M(DmaBuffer buf, bool check)
    {
        using var access = buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        DmaBufPage? page = check ? buf.Kmap(0) : null;
        if (page is { } p && p.Span[0] == 0x7F)
        {
            buf.Kunmap(0, p);
            return true; // magic
        }

        if (page.HasValue)
            buf.Kunmap(0, page.Value);
        return false;
    }"), Key);

    // The other arm maps, the test is HasValue of an outer if: the unmap goes through Value, before the end of access.
    [Fact]
    public Task NullablePageUnderHasValueIsUnmappedThroughValue() => Verify.VerifyAsync(Verify.Class(@"
    int M(DmaBuffer buffer, bool skip)
    {
        buffer.BeginCpuAccess(DmaBuffer.PageSize, DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
        DmaBufPage? mapped = skip ? default : (buffer.Kmap(1));
        if (mapped.HasValue)
        {
            if (mapped.Value.Span[0] != 0)
            {
                buffer.EndCpuAccess(DmaBuffer.PageSize, DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
                {|DMA0003:return -1;|}
            }

            buffer.Kunmap(1, mapped.Value);
        }

        buffer.EndCpuAccess(DmaBuffer.PageSize, DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
        return 0;
    }"), Verify.Class(@"
    int M(DmaBuffer buffer, bool skip)
    {
        buffer.BeginCpuAccess(DmaBuffer.PageSize, DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
        DmaBufPage? mapped = skip ? default : (buffer.Kmap(1));
        if (mapped.HasValue)
        {
            if (mapped.Value.Span[0] != 0)
            {
                buffer.Kunmap(1, mapped.Value);
                buffer.EndCpuAccess(DmaBuffer.PageSize, DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
                return -1;
            }

            buffer.Kunmap(1, mapped.Value);
        }

        buffer.EndCpuAccess(DmaBuffer.PageSize, DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
        return 0;
    }"), Key);

    // No test at the return says the page is there: it is unmapped under the test the code itself writes.
    [Fact]
    public Task NullablePageWithoutATestIsUnmappedUnderHasValue() => Verify.VerifyAsync(Verify.Class(@"
    int M(DmaBuffer buf, bool check, bool quit)
    {
        using var access = buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        DmaBufPage? page = check ? buf.Kmap(0) : null;
        if (quit)
            {|DMA0003:return -1;|}
        if (page != null)
            buf.Kunmap(0, page.Value);
        return 0;
    }"), Verify.Class(@"
    int M(DmaBuffer buf, bool check, bool quit)
    {
        using var access = buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        DmaBufPage? page = check ? buf.Kmap(0) : null;
        if (quit)
        {
            if (page.HasValue)
                buf.Kunmap(0, page.Value);
            return -1;
        }

        if (page != null)
            buf.Kunmap(0, page.Value);
        return 0;
    }"), Key);

    // The page is also copied into another local: which of them is unmapped is not the fix's to pick.
    [Fact]
    public Task NullablePageCopiedElsewhereGetsNoUnmap() => Verify.VerifyNoFixAsync(Verify.Class(@"
    bool M(DmaBuffer buf, bool check)
    {
        using var access = buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        DmaBufPage? page = check ? buf.Kmap(0) : null;
        DmaBufPage? copy = page;
        if (page is { } p && p.Span[0] == 0x7F)
            {|DMA0003:return true;|}
        if (copy.HasValue)
            buf.Kunmap(0, copy.Value);
        return false;
    }"), Key);

    // The return is in the else of `page is null`: there the page is held, and Value unmaps it.
    [Fact]
    public Task NullablePageInTheElseOfANullTestIsUnmappedThroughValue() => Verify.VerifyAsync(Verify.Class(@"
    int M(DmaBuffer buf, bool check)
    {
        using var access = buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        DmaBufPage? page = check ? buf.Kmap(0) : null;
        if (page is null)
            return 0;
        else if (page.Value.Span[0] == 1)
            {|DMA0003:return 1;|}
        buf.Kunmap(0, page.Value);
        return 2;
    }"), Verify.Class(@"
    int M(DmaBuffer buf, bool check)
    {
        using var access = buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        DmaBufPage? page = check ? buf.Kmap(0) : null;
        if (page is null)
            return 0;
        else if (page.Value.Span[0] == 1)
        {
            buf.Kunmap(0, page.Value);
            return 1;
        }

        buf.Kunmap(0, page.Value);
        return 2;
    }"), Key);
}
