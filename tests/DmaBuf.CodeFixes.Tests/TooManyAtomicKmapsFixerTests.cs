using System.Threading.Tasks;
using Verify = DmaBuf.CodeFixes.Tests.CodeFixVerifier<DmaBuf.Analyzers.Rules.DmaBufFlowAnalyzer, DmaBuf.CodeFixes.TooManyAtomicKmapsFixer>;

namespace DmaBuf.CodeFixes.Tests;

public class TooManyAtomicKmapsFixerTests
{
    private const string Key = TooManyAtomicKmapsFixer.UseKmapKey;

    [Fact]
    public Task ThirdPageIsMappedWithKmapBeforeTheOthers() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
        var a = buf.KmapAtomic(0);
        var b = buf.KmapAtomic(1);
        var c = {|DMA0004:buf.KmapAtomic(2)|};
        a.Span.CopyTo(c.Span);
        b.Span.CopyTo(c.Span);
        buf.KunmapAtomic(2, c);
        buf.KunmapAtomic(1, b);
        buf.KunmapAtomic(0, a);
        buf.EndCpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
    }"), Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
        var c = buf.Kmap(2);
        var a = buf.KmapAtomic(0);
        var b = buf.KmapAtomic(1);
        a.Span.CopyTo(c.Span);
        b.Span.CopyTo(c.Span);
        buf.Kunmap(2, c);
        buf.KunmapAtomic(1, b);
        buf.KunmapAtomic(0, a);
        buf.EndCpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
    }"), Key);

    [Fact]
    public Task NestedUsingDeclarationMovesUp() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf, bool copy)
    {
        using (buf.CpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional))
        {
            if (copy)
            {
                using var a = buf.KmapAtomic(0);
                a.Span.Fill(1);
                using var b = buf.KmapAtomic(1);
                using var c = {|DMA0004:buf.KmapAtomic(2)|};
                b.Span.CopyTo(c.Span);
            }
        }
    }"), Verify.Class(@"
    void M(DmaBuffer buf, bool copy)
    {
        using (buf.CpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional))
        {
            if (copy)
            {
                using var c = buf.Kmap(2);
                using var a = buf.KmapAtomic(0);
                a.Span.Fill(1);
                using var b = buf.KmapAtomic(1);
                b.Span.CopyTo(c.Span);
            }
        }
    }"), Key);

    // A third and a fourth atomic mapping: the fourth is reported with three held (its sites include the third).
    // Fixing the third first leaves two atomic ones at the fourth's site, whose plan ignores the site that is Kmap now
    // and moves the fourth up too. One Fix All pass does both; one at a time takes two fixes.
    [Fact]
    public Task FixAllMapsEveryExtraPageWithKmap() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 4 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
        var a = buf.KmapAtomic(0);
        var b = buf.KmapAtomic(1);
        var c = {|DMA0004:buf.KmapAtomic(2)|};
        var d = {|DMA0004:buf.KmapAtomic(3)|};
        a.Span.CopyTo(c.Span);
        b.Span.CopyTo(d.Span);
        buf.KunmapAtomic(3, d);
        buf.KunmapAtomic(2, c);
        buf.KunmapAtomic(1, b);
        buf.KunmapAtomic(0, a);
        buf.EndCpuAccess(0, 4 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
    }"), Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 4 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
        var c = buf.Kmap(2);
        var d = buf.Kmap(3);
        var a = buf.KmapAtomic(0);
        var b = buf.KmapAtomic(1);
        a.Span.CopyTo(c.Span);
        b.Span.CopyTo(d.Span);
        buf.Kunmap(3, d);
        buf.Kunmap(2, c);
        buf.KunmapAtomic(1, b);
        buf.KunmapAtomic(0, a);
        buf.EndCpuAccess(0, 4 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
    }"), Key, iterations: 2);

    [Fact]
    public Task UseKmapKeepsComments() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
        // source pages
        var a = buf.KmapAtomic(0);
        var b = buf.KmapAtomic(1);
        // the target page
        var c = {|DMA0004:buf.KmapAtomic(2 /* last */)|}; // target
        a.Span.CopyTo(c.Span);
        b.Span.CopyTo(c.Span);
        buf.KunmapAtomic(2, c); // done with the target
        buf.KunmapAtomic(1, b);
        buf.KunmapAtomic(0, a);
        buf.EndCpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
    }"), Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
        // the target page
        var c = buf.Kmap(2 /* last */); // target
        // source pages
        var a = buf.KmapAtomic(0);
        var b = buf.KmapAtomic(1);
        a.Span.CopyTo(c.Span);
        b.Span.CopyTo(c.Span);
        buf.Kunmap(2, c); // done with the target
        buf.KunmapAtomic(1, b);
        buf.KunmapAtomic(0, a);
        buf.EndCpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
    }"), Key);

    [Fact]
    public Task NoFixWhenThePageIsComputedBetween() => Verify.VerifyNoFixAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
        var a = buf.KmapAtomic(0);
        var b = buf.KmapAtomic(1);
        long n = a.Span[0] + b.Span[0] > 0 ? 2 : 2;
        var c = {|DMA0004:buf.KmapAtomic(n)|};
        a.Span.CopyTo(c.Span);
        buf.KunmapAtomic(n, c);
        buf.KunmapAtomic(1, b);
        buf.KunmapAtomic(0, a);
        buf.EndCpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
    }"), Key);
}
