// Tests of "Unmap the page that was mapped" (DMA0003.MappedPageNumber): the unmap's page number becomes the kmap's;
// the mapping's own PageNumber when the kmap's page number may have changed.
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

    // In one iteration of a loop nothing writes `i` between the kmap and the unmap: the loop's own `i` is reused.
    [Fact]
    public Task InALoopTheKmapsPageVariableIsReused() => Verify.VerifyAsync(Verify.Class(@"
    int M(DmaBuffer buf)
    {
        int sum = 0;
        using (buf.CpuAccess(0, buf.Size, DmaDataDirection.FromDevice))
        {
            for (long i = 0; i + 1 < buf.PageCount; i++)
            {
                var page = buf.Kmap(i);
                sum += page.Span[0];
                {|DMA0003:buf.Kunmap(i + 1, page)|};
            }
        }

        return sum;
    }"), Verify.Class(@"
    int M(DmaBuffer buf)
    {
        int sum = 0;
        using (buf.CpuAccess(0, buf.Size, DmaDataDirection.FromDevice))
        {
            for (long i = 0; i + 1 < buf.PageCount; i++)
            {
                var page = buf.Kmap(i);
                sum += page.Span[0];
                buf.Kunmap(i, page);
            }
        }

        return sum;
    }"), Key);

    // A field that is not readonly may hold another page by the unmap: the page the mapping records is named instead.
    [Fact]
    public Task AWritableFieldPageNumberBecomesTheMappingsPageNumber() => Verify.VerifyAsync(Verify.Class(@"
    long _next;

    byte M(DmaBuffer buf)
    {
        using var access = buf.CpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        var page = buf.Kmap(_next);
        byte value = page.Span[0];
        {|DMA0003:buf.Kunmap(_next + 1, page)|};
        return value;
    }"), Verify.Class(@"
    long _next;

    byte M(DmaBuffer buf)
    {
        using var access = buf.CpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        var page = buf.Kmap(_next);
        byte value = page.Span[0];
        buf.Kunmap(page.PageNumber, page);
        return value;
    }"), Key);
}
