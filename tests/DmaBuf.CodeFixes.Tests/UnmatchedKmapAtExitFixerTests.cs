// Tests of "Unmap page N before this return" (DMA0003.UnmapBeforeExit): an early return between the kmap and its
// unmap, the unmap going before the end of access at that way out.
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
}
