// Tests of "Match the begun range" (DMA0002): the end takes the begin's range and form (ranged or whole buffer);
// none where nothing was begun, the begin is a scope, or the directions differ.
using System.Threading.Tasks;
using Verify = DmaBuf.CodeFixes.Tests.CodeFixVerifier<DmaBuf.Analyzers.Rules.DmaBufFlowAnalyzer, DmaBuf.CodeFixes.MismatchedEndCpuAccessFixer>;

namespace DmaBuf.CodeFixes.Tests;

public class MismatchedEndCpuAccessFixerTests
{
    private const string Key = MismatchedEndCpuAccessFixer.MatchBeginKey;

    [Fact]
    public Task EndGetsTheBegunLength() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        {|DMA0002:buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice)|};
    }"), Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        buf.EndCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
    }"), Key);

    [Fact]
    public Task NestedEndGetsTheBegunRange() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf, bool fill)
    {
        buf.BeginCpuAccess(DmaBuffer.PageSize, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        if (fill)
        {
            using (var page = buf.Kmap(1))
                page.Span.Fill(1);
        }
        try
        {
            Console.WriteLine(fill);
        }
        finally
        {
            {|DMA0002:buf.EndCpuAccess(DmaBuffer.PageSize, 2 * DmaBuffer.PageSize, DmaDataDirection.ToDevice)|};
        }
    }"), Verify.Class(@"
    void M(DmaBuffer buf, bool fill)
    {
        buf.BeginCpuAccess(DmaBuffer.PageSize, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        if (fill)
        {
            using (var page = buf.Kmap(1))
                page.Span.Fill(1);
        }
        try
        {
            Console.WriteLine(fill);
        }
        finally
        {
            buf.EndCpuAccess(DmaBuffer.PageSize, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        }
    }"), Key);

    // Independent ends in two methods: the batch fixer merges the two edits in one pass.
    [Fact]
    public Task FixAllMatchesEveryEnd() => Verify.VerifyAsync(Verify.Class(@"
    void A(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        {|DMA0002:buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice)|};
    }

    void B(DmaBuffer buf)
    {
        const long start = 3 * DmaBuffer.PageSize;
        buf.BeginCpuAccess(start, DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
        {|DMA0002:buf.EndCpuAccess(start, 2 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional)|};
    }"), Verify.Class(@"
    void A(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        buf.EndCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
    }

    void B(DmaBuffer buf)
    {
        const long start = 3 * DmaBuffer.PageSize;
        buf.BeginCpuAccess(start, DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
        buf.EndCpuAccess(start, DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
    }"), Key, iterations: 2);

    [Fact]
    public Task MatchKeepsComments() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        // end what was begun
        {|DMA0002:buf.EndCpuAccess(0, /* length */ DmaBuffer.PageSize /* bytes */, DmaDataDirection.FromDevice)|}; // done
    }"), Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        // end what was begun
        buf.EndCpuAccess(0, /* length */ 2 * DmaBuffer.PageSize /* bytes */, DmaDataDirection.FromDevice); // done
    }"), Key);

    [Fact]
    public Task NoFixWhenNothingWasBegun() => Verify.VerifyNoFixAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        {|DMA0002:buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice)|};
    }"), Key);

    [Fact]
    public Task NoFixWhenTheBeginIsAScope() => Verify.VerifyNoFixAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice))
        {
            {|DMA0002:buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice)|};
        }
    }"), Key);

    // ---- whole-buffer access: a whole-buffer end never matches a ranged begin; the end takes the begin's form ----

    [Fact]
    public Task RangedEndOfAWholeBufferBeginBecomesWholeBuffer() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(DmaDataDirection.FromDevice);
        {|DMA0002:buf.EndCpuAccess(0, buf.Size, DmaDataDirection.FromDevice)|};
    }"), Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(DmaDataDirection.FromDevice);
        buf.EndCpuAccess(DmaDataDirection.FromDevice);
    }"), Key);

    [Fact]
    public Task WholeBufferEndOfARangedBeginGetsTheRange() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        {|DMA0002:buf.EndCpuAccess(DmaDataDirection.ToDevice)|};
    }"), Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }"), Key);

    // Only the direction differs: what an end's direction does is the exporter's (a vendor's invalidate is an end
    // FromDevice after a begin ToDevice), so the end's direction is not replaced.
    [Fact]
    public Task NoMatchForAnEndInAnotherDirection() => Verify.VerifyNoFixAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(DmaDataDirection.ToDevice);
        {|DMA0002:buf.EndCpuAccess(DmaDataDirection.FromDevice)|};
    }"), Key);

    [Fact]
    public Task FixAllMatchesEveryEndInEitherForm() => Verify.VerifyAsync(Verify.Class(@"
    void A(DmaBuffer buf)
    {
        buf.BeginCpuAccess(DmaDataDirection.FromDevice);
        {|DMA0002:buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice)|};
    }

    void B(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        {|DMA0002:buf.EndCpuAccess(DmaDataDirection.FromDevice)|};
    }"), Verify.Class(@"
    void A(DmaBuffer buf)
    {
        buf.BeginCpuAccess(DmaDataDirection.FromDevice);
        buf.EndCpuAccess(DmaDataDirection.FromDevice);
    }

    void B(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
    }"), Key, iterations: 2);

    [Fact]
    public Task NoFixWhenTheBeginIsAWholeBufferScope() => Verify.VerifyNoFixAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        using (buf.CpuAccess(DmaDataDirection.ToDevice))
        {
            {|DMA0002:buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice)|};
        }
    }"), Key);

    // The end wrote back (ToDevice) after a read-only begin: giving it FromDevice would drop the write-back ("Begin
    // and end the access Bidirectional" is the fix offered there).
    [Fact]
    public Task NoMatchWhereTheEndWouldLoseItsWriteBack() => Verify.VerifyNoFixAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        using (var page = buf.Kmap(0))
            page.Span[0]++;
        {|DMA0002:buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice)|};
    }"), Key);
}
