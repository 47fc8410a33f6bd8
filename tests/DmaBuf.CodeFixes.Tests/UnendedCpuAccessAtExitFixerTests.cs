// Tests of "End CPU access before this return" (DMA0001.EndBeforeExit): an early return after a begin whose failure is
// checked later, the end going before a Put at that way out, and no fix where a path reaches the return without access.
using System.Threading.Tasks;
using Verify = DmaBuf.CodeFixes.Tests.CodeFixVerifier<DmaBuf.Analyzers.Rules.DmaBufFlowAnalyzer, DmaBuf.CodeFixes.UnendedCpuAccessAtExitFixer>;

namespace DmaBuf.CodeFixes.Tests;

public class UnendedCpuAccessAtExitFixerTests
{
    private const string Key = UnendedCpuAccessAtExitFixer.EndBeforeExitKey;

    [Fact]
    public Task EndGoesBeforeThePutAtTheWayOut() => Verify.VerifyAsync(Verify.Class(@"
    int M(DmaBuffer buf, bool bad)
    {
        buf.BeginCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        if (bad)
        {
            // give up
            buf.Put();
            {|DMA0001:return -5;|}
        }

        buf.EndCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        buf.Put();
        return 0;
    }"), Verify.Class(@"
    int M(DmaBuffer buf, bool bad)
    {
        buf.BeginCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        if (bad)
        {
            // give up
            buf.EndCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
            buf.Put();
            return -5;
        }

        buf.EndCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        buf.Put();
        return 0;
    }"), Key);

    // A begin inside a try whose failure is only checked later: no scope can cover it; the end goes at the return.
    // A begin through ?. gets its end through ?. as well.
    [Fact]
    public Task NullConditionalBeginGetsANullConditionalEnd() => Verify.VerifyAsync(Verify.Class(@"
    int M(DmaBuffer frame, DmaBuffer? overlay)
    {
        int result = 0;
        overlay?.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        if (frame.Size == 0)
            {|DMA0001:return -22;|}
        if (overlay is not null)
        {
            using var source = overlay.Kmap(0);
            result = source.Span[0];
        }

        overlay?.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        return result;
    }"), Verify.Class(@"
    int M(DmaBuffer frame, DmaBuffer? overlay)
    {
        int result = 0;
        overlay?.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        if (frame.Size == 0)
        {
            overlay?.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
            return -22;
        }

        if (overlay is not null)
        {
            using var source = overlay.Kmap(0);
            result = source.Span[0];
        }

        overlay?.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        return result;
    }"), Key);

    // The begin is under a check: the end at the early return is under the same check, like the code's own end.
    [Fact]
    public Task GuardedBeginGetsAGuardedEnd() => Verify.VerifyAsync(Verify.Class(@"
    int M(DmaBufAttachment? attach, int format, long size)
    {
        if (attach != null)
        {
            attach.Buffer.BeginCpuAccess(0, size, DmaDataDirection.FromDevice);
        }

        switch (format)
        {
            case 1:
                break;
            default:
                {|DMA0001:return -22;|}
        }

        if (attach != null)
            attach.Buffer.EndCpuAccess(0, size, DmaDataDirection.FromDevice);
        return 0;
    }"), Verify.Class(@"
    int M(DmaBufAttachment? attach, int format, long size)
    {
        if (attach != null)
        {
            attach.Buffer.BeginCpuAccess(0, size, DmaDataDirection.FromDevice);
        }

        switch (format)
        {
            case 1:
                break;
            default:
                if (attach != null)
                    attach.Buffer.EndCpuAccess(0, size, DmaDataDirection.FromDevice);
                return -22;
        }

        if (attach != null)
            attach.Buffer.EndCpuAccess(0, size, DmaDataDirection.FromDevice);
        return 0;
    }"), Key);

    // The direction of the access depends on a condition: the early return gets a copy of the code's own if/else end.
    [Fact]
    public Task EarlyReturnGetsTheCodesOwnConditionalEnd() => Verify.VerifyAsync(Verify.Class(@"
    int M(DmaBuffer buf, bool upload, bool skip)
    {
        if (upload)
            buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        else
            buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        if (skip)
            {|DMA0001:return 0;|}
        using (var page = buf.Kmap(0))
            page.Span[0] ^= 1;
        if (upload)
            buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        else
            buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        return 1;
    }"), Verify.Class(@"
    int M(DmaBuffer buf, bool upload, bool skip)
    {
        if (upload)
            buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        else
            buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        if (skip)
        {
            if (upload)
                buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
            else
                buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
            return 0;
        }

        using (var page = buf.Kmap(0))
            page.Span[0] ^= 1;
        if (upload)
            buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        else
            buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        return 1;
    }"), Key);

    [Fact]
    public Task BeginInTryGetsItsEndAtTheReturn() => Verify.VerifyAsync(Verify.Class(@"
    int M(DmaBuffer buf, bool bad)
    {
        int ret = 0;
        try
        {
            buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        }
        catch (DmaBufException e)
        {
            ret = -e.Errno;
        }

        if (ret != 0)
            return ret;
        if (bad)
            {|DMA0001:return -22;|}
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        return 0;
    }"), Verify.Class(@"
    int M(DmaBuffer buf, bool bad)
    {
        int ret = 0;
        try
        {
            buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        }
        catch (DmaBufException e)
        {
            ret = -e.Errno;
        }

        if (ret != 0)
            return ret;
        if (bad)
        {
            buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
            return -22;
        }

        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        return 0;
    }"), Key);

    // A whole-buffer begin gets a whole-buffer end, through ?. as well.
    [Fact]
    public Task WholeBufferBeginGetsAWholeBufferEnd() => Verify.VerifyAsync(Verify.Class(@"
    int M(DmaBuffer frame, DmaBuffer? overlay)
    {
        int result = 0;
        overlay?.BeginCpuAccess(DmaDataDirection.FromDevice);
        if (frame.Size == 0)
            {|DMA0001:return -22;|}
        if (overlay is not null)
        {
            using var source = overlay.Kmap(0);
            result = source.Span[0];
        }

        overlay?.EndCpuAccess(DmaDataDirection.FromDevice);
        return result;
    }"), Verify.Class(@"
    int M(DmaBuffer frame, DmaBuffer? overlay)
    {
        int result = 0;
        overlay?.BeginCpuAccess(DmaDataDirection.FromDevice);
        if (frame.Size == 0)
        {
            overlay?.EndCpuAccess(DmaDataDirection.FromDevice);
            return -22;
        }

        if (overlay is not null)
        {
            using var source = overlay.Kmap(0);
            result = source.Span[0];
        }

        overlay?.EndCpuAccess(DmaDataDirection.FromDevice);
        return result;
    }"), Key);

    [Fact]
    public Task WholeBufferEndGoesBeforeThePutAtTheWayOut() => Verify.VerifyAsync(Verify.Class(@"
    int M(DmaBuffer buf, bool bad)
    {
        buf.BeginCpuAccess(DmaDataDirection.FromDevice);
        if (bad)
        {
            buf.Put();
            {|DMA0001:return -5;|}
        }

        buf.EndCpuAccess(DmaDataDirection.FromDevice);
        buf.Put();
        return 0;
    }"), Verify.Class(@"
    int M(DmaBuffer buf, bool bad)
    {
        buf.BeginCpuAccess(DmaDataDirection.FromDevice);
        if (bad)
        {
            buf.EndCpuAccess(DmaDataDirection.FromDevice);
            buf.Put();
            return -5;
        }

        buf.EndCpuAccess(DmaDataDirection.FromDevice);
        buf.Put();
        return 0;
    }"), Key);

    // A scope chosen by a switch expression, disposed by a using after an early return: the return disposes it.
    [Fact]
    public Task ScopeOfASwitchExpressionIsDisposedBeforeTheEarlyReturn() => Verify.VerifyAsync(Verify.Class(@"
    int M(DmaBuffer buf, bool upload, int minimumPages)
    {
        var scope = upload switch
        {
            true => buf.CpuAccess(0, buf.Size, DmaDataDirection.ToDevice),
            _ => buf.CpuAccess(0, buf.Size, DmaDataDirection.FromDevice),
        };

        if (buf.PageCount < minimumPages)
            {|DMA0001:return -22;|} // too small

        using (scope)
        {
            using var page = buf.Kmap(0);
            return page.Span[0];
        }
    }"), Verify.Class(@"
    int M(DmaBuffer buf, bool upload, int minimumPages)
    {
        var scope = upload switch
        {
            true => buf.CpuAccess(0, buf.Size, DmaDataDirection.ToDevice),
            _ => buf.CpuAccess(0, buf.Size, DmaDataDirection.FromDevice),
        };

        if (buf.PageCount < minimumPages)
        {
            scope.Dispose();
            return -22; // too small
        }

        using (scope)
        {
            using var page = buf.Kmap(0);
            return page.Span[0];
        }
    }"), Key);

    // The same with a scope from a helper in a conditional expression, the Put at the return kept after the dispose.
    [Fact]
    public Task ScopeOfAHelperIsDisposedBeforeTheThrowAndThePut() => Verify.VerifyAsync(Verify.Class(@"
    static CpuAccessScope Reading(DmaBuffer b) => b.CpuAccess(DmaDataDirection.FromDevice);

    int M(DmaBuffer frame, bool write)
    {
        CpuAccessScope access = write ? frame.CpuAccess(DmaDataDirection.ToDevice) : Reading(frame);
        if (frame.Size == 0)
        {
            frame.Put();
            {|DMA0001:return -5;|}
        }

        using (access)
        {
            using var page = frame.Kmap(0);
            page.Span[0] = 1;
        }

        frame.Put();
        return 0;
    }"), Verify.Class(@"
    static CpuAccessScope Reading(DmaBuffer b) => b.CpuAccess(DmaDataDirection.FromDevice);

    int M(DmaBuffer frame, bool write)
    {
        CpuAccessScope access = write ? frame.CpuAccess(DmaDataDirection.ToDevice) : Reading(frame);
        if (frame.Size == 0)
        {
            access.Dispose();
            frame.Put();
            return -5;
        }

        using (access)
        {
            using var page = frame.Kmap(0);
            page.Span[0] = 1;
        }

        frame.Put();
        return 0;
    }"), Key);

    // The scope local is assigned again before the return: the dispose would end another scope.
    [Fact]
    public Task NoDisposeWhereTheScopeLocalIsAssignedAgain() => Verify.VerifyNoFixAsync(Verify.Class(@"
    int M(DmaBuffer buf, DmaBuffer other, int minimumPages)
    {
        var scope = buf.CpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        scope.Dispose();
        scope = other.CpuAccess(0, other.Size, DmaDataDirection.FromDevice);
        if (buf.PageCount < minimumPages)
            {|DMA0001:return -22;|}

        using (scope)
            return 0;
    }"), Key);

    // The pages stay mapped in the caller's array: ending the access here would leave them mapped with no access, so
    // no provider ends it (the Open half of a pair: [LeavesCpuAccessOpen] says so).
    [Fact]
    public Task NoEndWhereTheMethodHandsItsMappingsOn() => Verify.VerifyNoFixAsync(Verify.Class(@"
    int Open(DmaBuffer buf, DmaBufPage[] pages)
    {
        buf.BeginCpuAccess(DmaDataDirection.Bidirectional);
        for (int i = 0; i < pages.Length; i++)
        {
            var page = buf.Kmap(i);
            pages[i] = page;
        }

        {|DMA0001:return 0;|}
    }"), Key);

    [Fact]
    public Task NoScopeOrFinallyEitherWhereTheMethodHandsItsMappingsOn() => CodeFixVerifier<DmaBuf.Analyzers.Rules.DmaBufFlowAnalyzer, UnendedCpuAccessFixer>.VerifyNoFixAsync(Verify.Class(@"
    DmaBufPage? _kept;

    int Open(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        DmaBufPage? page = buf.Kmap(0);
        _kept = page.Value;
        {|DMA0001:return 0;|}
    }"), UnendedCpuAccessFixer.EndInFinallyKey);
}
