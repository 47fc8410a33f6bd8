// Tests of the fixes for an access ended twice (DMA0002.RemoveRepeatedEnd): an end inside a loop moves after it, an
// explicit end inside a CpuAccess scope goes, an end on one branch that a later end repeats goes with its guard;
// no fix for an end with nothing begun.
using System.Threading.Tasks;
using Verify = DmaBuf.CodeFixes.Tests.CodeFixVerifier<DmaBuf.Analyzers.Rules.DmaBufFlowAnalyzer, DmaBuf.CodeFixes.RedundantEndCpuAccessFixer>;

namespace DmaBuf.CodeFixes.Tests;

public class RedundantEndCpuAccessFixerTests
{
    private const string Key = RedundantEndCpuAccessFixer.RemoveRepeatedEndKey;

    [Fact]
    public Task EndInALoopMovesAfterIt() => Verify.VerifyAsync(Verify.Class(@"
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

    [Fact]
    public Task ExplicitEndInsideTheScopeGoes() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        {|DMA0002:using|} (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice))
        {
            using (var page = buf.Kmap(0))
                page.Span.Clear();
            // the scope ends it
            buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        }
    }"), Verify.Class(@"
    void M(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice))
        {
            using (var page = buf.Kmap(0))
                page.Span.Clear();
            // the scope ends it
        }
    }"), Key);

    [Fact]
    public Task WholeBufferEndInALoopMovesAfterIt() => Verify.VerifyAsync(Verify.Class(@"
    int M(DmaBuffer buf)
    {
        int sum = 0;
        buf.BeginCpuAccess(DmaDataDirection.FromDevice);
        for (int pass = 0; pass < 2; pass++)
        {
            using (var page = {|DMA0007:buf.Kmap(0)|})
                sum += page.Span[pass];
            {|DMA0002:buf.EndCpuAccess(DmaDataDirection.FromDevice)|};
        }

        return sum;
    }"), Verify.Class(@"
    int M(DmaBuffer buf)
    {
        int sum = 0;
        buf.BeginCpuAccess(DmaDataDirection.FromDevice);
        for (int pass = 0; pass < 2; pass++)
        {
            using (var page = buf.Kmap(0))
                sum += page.Span[pass];
        }

        buf.EndCpuAccess(DmaDataDirection.FromDevice);
        return sum;
    }"), Key);

    [Fact]
    public Task ExplicitEndInsideTheWholeBufferScopeGoes() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        {|DMA0002:using|} (buf.CpuAccess(DmaDataDirection.ToDevice))
        {
            using (var page = buf.Kmap(0))
                page.Span.Clear();
            buf.EndCpuAccess(DmaDataDirection.ToDevice);
        }
    }"), Verify.Class(@"
    void M(DmaBuffer buf)
    {
        using (buf.CpuAccess(DmaDataDirection.ToDevice))
        {
            using (var page = buf.Kmap(0))
                page.Span.Clear();
        }
    }"), Key);

    // The end on the default branch is repeated by the end after the switch, which every path reaches.
    [Fact]
    public Task EarlierEndOnOneBranchGoesWithItsGuard() => Verify.VerifyAsync(Verify.Class(@"
    int M(DmaBuffer? buf, int format, long size)
    {
        int ret = 0;
        if (buf != null)
            buf.BeginCpuAccess(0, size, DmaDataDirection.FromDevice);
        switch (format)
        {
            case 1:
                ret = 1;
                break;
            default:
                if (buf != null)
                    buf.EndCpuAccess(0, size, DmaDataDirection.FromDevice);
                ret = -22;
                break;
        }

        if (buf != null)
            {|DMA0002:buf.EndCpuAccess(0, size, DmaDataDirection.FromDevice)|};
        return ret;
    }"), Verify.Class(@"
    int M(DmaBuffer? buf, int format, long size)
    {
        int ret = 0;
        if (buf != null)
            buf.BeginCpuAccess(0, size, DmaDataDirection.FromDevice);
        switch (format)
        {
            case 1:
                ret = 1;
                break;
            default:
                ret = -22;
                break;
        }

        if (buf != null)
            buf.EndCpuAccess(0, size, DmaDataDirection.FromDevice);
        return ret;
    }"), Key);

    // The inner finally ends 'a' again where it was meant to end 'b', the access its try covers.
    [Fact]
    public Task FinallyEndsTheBufferItsTryCovers() => Verify.VerifyAsync(Verify.Class(@"
    int M(DmaBuffer a, DmaBuffer b)
    {
        int diff = 0;
        a.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        try
        {
            b.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
            try
            {
                using var pa = a.Kmap(0);
                using var pb = b.Kmap(0);
                diff = pa.Span.SequenceCompareTo(pb.Span);
            }
            finally
            {
                a.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
            }
        }
        finally
        {
            {|DMA0002:a.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice)|};
        }

        {|DMA0001:return diff;|}
    }"), Verify.Class(@"
    int M(DmaBuffer a, DmaBuffer b)
    {
        int diff = 0;
        a.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        try
        {
            b.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
            try
            {
                using var pa = a.Kmap(0);
                using var pb = b.Kmap(0);
                diff = pa.Span.SequenceCompareTo(pb.Span);
            }
            finally
            {
                b.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
            }
        }
        finally
        {
            a.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        }

        return diff;
    }"), Key);

    [Fact]
    public Task NoFixWhenNothingWasBegun() => Verify.VerifyNoFixAsync(Verify.Class(@"
    void M(int fd)
    {
        var buf = DmaBuffer.Get(fd);
        {|DMA0002:buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice)|};
        buf.Put();
    }"), Key);
}
