// Tests of the DMA0007 fixes for a mapping local: a CpuAccess scope around the mapping's use, or an earlier end moved
// after it; none while an atomic mapping is held (CpuAccess may block).
using System.Threading.Tasks;
using Verify = DmaBuf.CodeFixes.Tests.CodeFixVerifier<DmaBuf.Analyzers.Rules.DmaBufFlowAnalyzer, DmaBuf.CodeFixes.KmapWithoutCpuAccessFixer>;

namespace DmaBuf.CodeFixes.Tests;

public class KmapWithoutCpuAccessFixerTests
{
    private const string Key = KmapWithoutCpuAccessFixer.BeginAccessKey;

    [Fact]
    public Task MappingUpToItsUnmapGetsAScope() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        var page = {|DMA0007:buf.Kmap(1)|};
        page.Span.Fill(1);
        buf.Kunmap(1, page);
        Console.WriteLine(buf.Size);
    }"), Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        using (buf.CpuAccess(DmaBuffer.PageSize, DmaBuffer.PageSize, DmaDataDirection.ToDevice))
        {
            var page = buf.Kmap(1);
            page.Span.Fill(1);
            buf.Kunmap(1, page);
        }

        Console.WriteLine(buf.Size);
    }"), Key);

    [Fact]
    public Task NestedUsingMappingGetsAScope() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf, bool fill)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        if (fill)
        {
            using (var page = {|DMA0007:buf.KmapAtomic(2)|})
                page.Span.Fill(1);
        }
    }"), Verify.Class(@"
    void M(DmaBuffer buf, bool fill)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        if (fill)
        {
            using (buf.CpuAccess(2 * DmaBuffer.PageSize, DmaBuffer.PageSize, DmaDataDirection.ToDevice))
            {
                using (var page = buf.KmapAtomic(2))
                    page.Span.Fill(1);
            }
        }
    }"), Key);

    // Two mappings after the end: each gets its own scope, one after the other in one Fix All pass.
    [Fact]
    public Task FixAllScopesEveryMapping() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        using (var a = {|DMA0007:buf.Kmap(0)|})
            a.Span.Fill(1);
        using var b = {|DMA0007:buf.Kmap(1)|};
        b.Span.Fill(2);
    }"), Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice))
        {
            using (var a = buf.Kmap(0))
                a.Span.Fill(1);
        }

        using (buf.CpuAccess(DmaBuffer.PageSize, DmaBuffer.PageSize, DmaDataDirection.ToDevice))
        {
            using var b = buf.Kmap(1);
            b.Span.Fill(2);
        }
    }"), Key, iterations: 2);

    // The access the code ended just before the kmap covers the page: its end moves after the mapping's use, with the
    // code's own range and direction, instead of a second access beside an empty begin/end pair.
    [Fact]
    public Task EndOfAnAccessThatCoversThePageMovesAfterTheUse() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        buf.EndCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        // map the page
        var page = {|DMA0007:buf.Kmap(1)|}; // mapped
        page.Span.Fill(1); /* filled */
        buf.Kunmap(1, page); // unmapped
        Console.WriteLine(buf.Size);
    }"), Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        // map the page
        var page = buf.Kmap(1); // mapped
        page.Span.Fill(1); /* filled */
        buf.Kunmap(1, page); // unmapped
        buf.EndCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        Console.WriteLine(buf.Size);
    }"), Key);

    // A freshly exported buffer, no access begun on it before the kmap: the scope is Bidirectional, right for any use; comments stay.
    [Fact]
    public Task ScopeKeepsComments() => Verify.VerifyAsync(Verify.Class(@"
    void M()
    {
        var buf = DmaBuffer.Export(new SystemHeapExporter(), DmaBuffer.PageSize);
        // map the page
        var page = {|DMA0007:buf.Kmap(0)|}; // mapped
        page.Span.Fill(1); /* filled */
        buf.Kunmap(0, page); // unmapped
        buf.Put();
    }"), Verify.Class(@"
    void M()
    {
        var buf = DmaBuffer.Export(new SystemHeapExporter(), DmaBuffer.PageSize);
        // map the page
        using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.Bidirectional))
        {
            var page = buf.Kmap(0); // mapped
            page.Span.Fill(1); /* filled */
            buf.Kunmap(0, page); // unmapped
        }

        buf.Put();
    }"), Key);

    [Fact]
    public Task NoFixWhileAnAtomicMappingIsHeld() => Verify.VerifyNoFixAsync(Verify.Class(@"
    void M(DmaBuffer other, DmaBuffer buf)
    {
        using (other.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice))
        using (var held = other.KmapAtomic(0))
        {
            {|DMA0005:buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice)|};
            {|DMA0005:buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice)|};
            using (var page = {|DMA0007:buf.KmapAtomic(0)|})
                page.Span.Fill(1);
        }
    }"), Key);
}
