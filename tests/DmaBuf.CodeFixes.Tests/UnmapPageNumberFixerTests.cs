// Tests of "Unmap the page that was mapped" (DMA0003.MappedPageNumber): the unmap's page number becomes the kmap's;
// no fix when the kmap's page number is a field that may change.
using System.Threading.Tasks;
using Verify = DmaBuf.CodeFixes.Tests.CodeFixVerifier<DmaBuf.Analyzers.Rules.DmaBufFlowAnalyzer, DmaBuf.CodeFixes.UnmapPageNumberFixer>;

namespace DmaBuf.CodeFixes.Tests;

public class UnmapPageNumberFixerTests
{
    private const string Key = UnmapPageNumberFixer.MappedPageNumberKey;

    [Fact]
    public Task UnmapNamesTheMappedPage() => Verify.VerifyAsync(Verify.Class(@"
    byte M(DmaBuffer buf, long n)
    {
        using var access = buf.CpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        var page = buf.Kmap(n);
        byte value = page.Span[0];
        {|DMA0003:buf.Kunmap(n + 1, page)|}; // done
        return value;
    }"), Verify.Class(@"
    byte M(DmaBuffer buf, long n)
    {
        using var access = buf.CpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        var page = buf.Kmap(n);
        byte value = page.Span[0];
        buf.Kunmap(n, page); // done
        return value;
    }"), Key);

    // A field that is not readonly may hold another page by the unmap.
    [Fact]
    public Task NoFixWhenThePageNumberIsAWritableField() => Verify.VerifyNoFixAsync(Verify.Class(@"
    long _next;

    byte M(DmaBuffer buf)
    {
        using var access = buf.CpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        var page = buf.Kmap(_next);
        byte value = page.Span[0];
        {|DMA0003:buf.Kunmap(_next + 1, page)|};
        return value;
    }"), Key);
}
