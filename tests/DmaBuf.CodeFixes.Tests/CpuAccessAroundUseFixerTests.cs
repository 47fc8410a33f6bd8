// Tests of the fixes that give a mapping's use CPU access where no mapping local covers it (DMA0007.AccessAroundUse):
// a helper that maps, called without access (the direction of the scope the code calls it under elsewhere), a helper
// whose result is declared (the declaration is split), an earlier end moved after the call, a kmap stored from a try
// and unmapped later; no fix for a mapping that escapes or a kmap whose out-of-range failure the code catches.
using System.Threading.Tasks;
using Verify = DmaBuf.CodeFixes.Tests.CodeFixVerifier<DmaBuf.Analyzers.Rules.DmaBufFlowAnalyzer, DmaBuf.CodeFixes.CpuAccessAroundUseFixer>;

namespace DmaBuf.CodeFixes.Tests;

public class CpuAccessAroundUseFixerTests
{
    private const string Key = CpuAccessAroundUseFixer.AccessAroundUseKey;

    [Fact]
    public Task HelperCallGetsTheDirectionItIsCalledWithElsewhere() => Verify.VerifyAsync(Verify.Class(@"
    static int Sum(DmaBuffer b, long p)
    {
        using var mapped = b.Kmap(p);
        return mapped.Span[0];
    }

    int All(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, buf.Size, DmaDataDirection.FromDevice))
            return Sum(buf, 0) + Sum(buf, 1);
    }

    int First(int fd)
    {
        var buf = DmaBuffer.Get(fd);
        try
        {
            return {|DMA0007:Sum(buf, 0)|}; // the header
        }
        finally
        {
            buf.Put();
        }
    }"), Verify.Class(@"
    static int Sum(DmaBuffer b, long p)
    {
        using var mapped = b.Kmap(p);
        return mapped.Span[0];
    }

    int All(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, buf.Size, DmaDataDirection.FromDevice))
            return Sum(buf, 0) + Sum(buf, 1);
    }

    int First(int fd)
    {
        var buf = DmaBuffer.Get(fd);
        try
        {
            using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice))
            {
                return Sum(buf, 0); // the header
            }
        }
        finally
        {
            buf.Put();
        }
    }"), Key);

    // The result is used after the call: the declaration is split so that it stays in scope.
    [Fact]
    public Task DeclarationIsSplit() => Verify.VerifyAsync(Verify.Class(@"
    static int Sum(DmaBuffer b, long p)
    {
        using var mapped = b.Kmap(p);
        return mapped.Span[0];
    }

    int M(DmaBufExporter exporter)
    {
        var buf = DmaBuffer.Export(exporter, DmaBuffer.PageSize);
        var sum = {|DMA0007:Sum(buf, 0)|};
        buf.Put();
        return sum;
    }"), Verify.Class(@"
    static int Sum(DmaBuffer b, long p)
    {
        using var mapped = b.Kmap(p);
        return mapped.Span[0];
    }

    int M(DmaBufExporter exporter)
    {
        var buf = DmaBuffer.Export(exporter, DmaBuffer.PageSize);
        int sum;
        using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.Bidirectional))
            sum = Sum(buf, 0);
        buf.Put();
        return sum;
    }"), Key);

    [Fact]
    public Task EarlierEndMovesAfterTheCall() => Verify.VerifyAsync(Verify.Class(@"
    static int Sum(DmaBuffer b, long p)
    {
        using var mapped = b.Kmap(p);
        return mapped.Span[0];
    }

    int M(DmaBufExporter exporter)
    {
        var buf = DmaBuffer.Export(exporter, DmaBuffer.PageSize);
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
        using (var page = buf.Kmap(0))
            page.Span[0] = 1;
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
        int sum = {|DMA0007:Sum(buf, 0)|};
        buf.Put();
        return sum;
    }"), Verify.Class(@"
    static int Sum(DmaBuffer b, long p)
    {
        using var mapped = b.Kmap(p);
        return mapped.Span[0];
    }

    int M(DmaBufExporter exporter)
    {
        var buf = DmaBuffer.Export(exporter, DmaBuffer.PageSize);
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
        using (var page = buf.Kmap(0))
            page.Span[0] = 1;
        int sum = Sum(buf, 0);
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
        buf.Put();
        return sum;
    }"), Key);

    // The kmap's failure is caught in a try of its own; the use runs to the unmap, with early gotos out of it.
    [Fact]
    public Task StoredKmapIsCoveredToItsUnmap() => Verify.VerifyAsync(Verify.Class(@"
    int M(int fd)
    {
        var dmabuf = DmaBuffer.Get(fd);
        DmaBufPage? ptr;
        int err = 0;
        try { ptr = {|DMA0007:dmabuf.Kmap(1)|}; } catch (DmaBufException) { ptr = null; }
        if (ptr == null)
        {
            err = -12;
            goto out_err;
        }

        ptr.Value.Span.Fill(0xc5);
        dmabuf.Kunmap(1, ptr.Value);

    out_err:
        dmabuf.Put();
        return err;
    }"), Verify.Class(@"
    int M(int fd)
    {
        var dmabuf = DmaBuffer.Get(fd);
        DmaBufPage? ptr;
        int err = 0;
        using (dmabuf.CpuAccess(DmaBuffer.PageSize, DmaBuffer.PageSize, DmaDataDirection.Bidirectional))
        {
            try { ptr = dmabuf.Kmap(1); } catch (DmaBufException) { ptr = null; }
            if (ptr == null)
            {
                err = -12;
                goto out_err;
            }

            ptr.Value.Span.Fill(0xc5);
            dmabuf.Kunmap(1, ptr.Value);
        }

    out_err:
        dmabuf.Put();
        return err;
    }"), Key);

    // The end inside the loop ended the access for the next iteration's kmap: it moves after the loop.
    [Fact]
    public Task EndInTheMappingLoopMovesAfterIt() => Verify.VerifyAsync(Verify.Class(@"
    int M(DmaBuffer buf)
    {
        int sum = 0;
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        for (int pass = 0; pass < 2; pass++)
        {
            using (var page = {|DMA0007:buf.Kmap(0)|})
                sum += page.Span[pass];
            {|DMA0002:buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice)|};
        }

        return sum;
    }"), Verify.Class(@"
    int M(DmaBuffer buf)
    {
        int sum = 0;
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        for (int pass = 0; pass < 2; pass++)
        {
            using (var page = buf.Kmap(0))
                sum += page.Span[pass];
        }

        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        return sum;
    }"), Key);

    // The code catches the kmap's out-of-range failure: a CpuAccess over that page would throw outside the handler.
    [Fact]
    public Task NoFixForAStoredKmapWhoseOutOfRangeFailureIsCaught() => Verify.VerifyNoFixAsync(Verify.Class(@"
    int M(int fd)
    {
        var dmabuf = DmaBuffer.Get(fd);
        DmaBufPage? ptr;
        int err = 0;
        try { ptr = {|DMA0007:dmabuf.Kmap(1)|}; } catch (System.ArgumentOutOfRangeException) { ptr = null; }
        if (ptr == null)
        {
            err = -12;
            goto out_err;
        }

        ptr.Value.Span.Fill(0xc5);
        dmabuf.Kunmap(1, ptr.Value);

    out_err:
        dmabuf.Put();
        return err;
    }"), Key);

    // The mapping is kept in a field: an access would have to last as long as it.
    [Fact]
    public Task NoFixForAMappingThatEscapes() => Verify.VerifyNoFixAsync(Verify.Class(@"
    DmaBufPage? _kept;

    void M(int fd)
    {
        var buf = DmaBuffer.Get(fd);
        DmaBufPage? ptr;
        try { ptr = {|DMA0007:buf.Kmap(0)|}; } catch (DmaBufException) { ptr = null; }
        _kept = ptr;
        if (ptr != null)
            buf.Kunmap(0, ptr.Value);
        buf.Put();
    }"), Key);
}
