// Tests of the releases inserted before the jumps that skip them: an unmap before an early break (DMA0003), an end
// before the break of the switch case that forgot it (DMA0001), a Put before the goto of a check in a loop (DMA0010),
// an unmap before the goto that skips the unmap rung of an error ladder (DMA0009), an unmap or Put before a throw to
// the method's own catch,
// each only at the jumps on whose path the resource is held; no fix where the code has no unmap to copy.
using System.Threading.Tasks;
using DmaBuf.Analyzers.Rules;

namespace DmaBuf.CodeFixes.Tests;

public class JumpReleaseFixerTests
{
    [Fact]
    public Task UnmapGoesBeforeTheEarlyBreak() => CodeFixVerifier<DmaBufFlowAnalyzer, UnmatchedKmapAtJumpFixer>.VerifyAsync(CodeFixVerifier<DmaBufFlowAnalyzer, UnmatchedKmapAtJumpFixer>.Class(@"
    long M(DmaBuffer buf)
    {
        long found = -1;
        buf.BeginCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        for (long p = 0; p < buf.PageCount; p++)
        {
            var page = buf.Kmap(p);
            if (page.Span[0] == 0xA5)
            {
                found = p;
                break; // found it
            }

            buf.Kunmap(p, page);
        }

        buf.EndCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        {|DMA0003:return found;|}
    }"), CodeFixVerifier<DmaBufFlowAnalyzer, UnmatchedKmapAtJumpFixer>.Class(@"
    long M(DmaBuffer buf)
    {
        long found = -1;
        buf.BeginCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        for (long p = 0; p < buf.PageCount; p++)
        {
            var page = buf.Kmap(p);
            if (page.Span[0] == 0xA5)
            {
                found = p;
                buf.Kunmap(p, page);
                break; // found it
            }

            buf.Kunmap(p, page);
        }

        buf.EndCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        return found;
    }"), UnmatchedKmapAtJumpFixer.UnmapBeforeJumpKey);

    // Only the case that begins without ending gets the end; the other case's break is left alone.
    [Fact]
    public Task EndGoesBeforeTheBreakOfTheCaseThatForgotIt() => CodeFixVerifier<DmaBufFlowAnalyzer, UnendedCpuAccessAtJumpFixer>.VerifyAsync(CodeFixVerifier<DmaBufFlowAnalyzer, UnendedCpuAccessAtJumpFixer>.Class(@"
    int M(DmaBuffer buf, int mode)
    {
        int sum = 0;
        switch (mode)
        {
            case 0:
                buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
                using (var page = buf.Kmap(0))
                    sum = page.Span[0];
                buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
                break;
            case 1:
                buf.BeginCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
                using (var page = buf.Kmap(1))
                    sum = page.Span[0];
                break;
        }

        {|DMA0001:return sum;|}
    }"), CodeFixVerifier<DmaBufFlowAnalyzer, UnendedCpuAccessAtJumpFixer>.Class(@"
    int M(DmaBuffer buf, int mode)
    {
        int sum = 0;
        switch (mode)
        {
            case 0:
                buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
                using (var page = buf.Kmap(0))
                    sum = page.Span[0];
                buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
                break;
            case 1:
                buf.BeginCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
                using (var page = buf.Kmap(1))
                    sum = page.Span[0];
                buf.EndCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
                break;
        }

        return sum;
    }"), UnendedCpuAccessAtJumpFixer.EndBeforeJumpKey);

    [Fact]
    public Task WholeBufferEndGoesBeforeTheBreakOfTheCaseThatForgotIt() => CodeFixVerifier<DmaBufFlowAnalyzer, UnendedCpuAccessAtJumpFixer>.VerifyAsync(CodeFixVerifier<DmaBufFlowAnalyzer, UnendedCpuAccessAtJumpFixer>.Class(@"
    int M(DmaBuffer buf, int mode)
    {
        int sum = 0;
        switch (mode)
        {
            case 0:
                buf.BeginCpuAccess(DmaDataDirection.FromDevice);
                using (var page = buf.Kmap(0))
                    sum = page.Span[0];
                buf.EndCpuAccess(DmaDataDirection.FromDevice);
                break;
            case 1:
                buf.BeginCpuAccess(DmaDataDirection.FromDevice);
                using (var page = buf.Kmap(1))
                    sum = page.Span[0];
                break;
        }

        {|DMA0001:return sum;|}
    }"), CodeFixVerifier<DmaBufFlowAnalyzer, UnendedCpuAccessAtJumpFixer>.Class(@"
    int M(DmaBuffer buf, int mode)
    {
        int sum = 0;
        switch (mode)
        {
            case 0:
                buf.BeginCpuAccess(DmaDataDirection.FromDevice);
                using (var page = buf.Kmap(0))
                    sum = page.Span[0];
                buf.EndCpuAccess(DmaDataDirection.FromDevice);
                break;
            case 1:
                buf.BeginCpuAccess(DmaDataDirection.FromDevice);
                using (var page = buf.Kmap(1))
                    sum = page.Span[0];
                buf.EndCpuAccess(DmaDataDirection.FromDevice);
                break;
        }

        return sum;
    }"), UnendedCpuAccessAtJumpFixer.EndBeforeJumpKey);

    [Fact]
    public Task PutGoesBeforeTheGotoOfACheckInALoop() => CodeFixVerifier<DmaBufFlowAnalyzer, UnputReferenceAtJumpFixer>.VerifyAsync(CodeFixVerifier<DmaBufFlowAnalyzer, UnputReferenceAtJumpFixer>.Class(@"
    DmaBuffer?[] _planes = new DmaBuffer?[4];

    int M(int[] fds, long minimum)
    {
        int ret = 0;
        for (int i = 0; i < fds.Length; i++)
        {
            var dbuf = DmaBuffer.Get(fds[i]);
            if (dbuf.Size < minimum)
            {
                ret = -22;
                goto err;
            }

            _planes[i] = dbuf;
        }

        return 0;
    err:
        {|DMA0010:return ret;|}
    }"), CodeFixVerifier<DmaBufFlowAnalyzer, UnputReferenceAtJumpFixer>.Class(@"
    DmaBuffer?[] _planes = new DmaBuffer?[4];

    int M(int[] fds, long minimum)
    {
        int ret = 0;
        for (int i = 0; i < fds.Length; i++)
        {
            var dbuf = DmaBuffer.Get(fds[i]);
            if (dbuf.Size < minimum)
            {
                ret = -22;
                dbuf.Put();
                goto err;
            }

            _planes[i] = dbuf;
        }

        return 0;
    err:
        return ret;
    }"), UnputReferenceAtJumpFixer.PutBeforeJumpKey);

    // The allocation failure jumps to the detach rung, past the unmap rung: the unmap goes before that goto only.
    [Fact]
    public Task UnmapGoesBeforeTheGotoThatSkipsTheUnmapRung() => CodeFixVerifier<DmaBufFlowAnalyzer, UnmapBeforeJumpToDetachFixer>.VerifyAsync(CodeFixVerifier<DmaBufFlowAnalyzer, UnmapBeforeJumpToDetachFixer>.Class(@"
    object? M(DmaBuffer buf, Device dev, bool noMemory, bool initFails)
    {
        var attach = buf.Attach(dev);
        ScatterGatherTable sg;
        try
        {
            sg = buf.MapAttachment(attach, DmaDataDirection.Bidirectional);
        }
        catch (DmaBufException)
        {
            goto fail_detach;
        }

        if (noMemory)
            goto fail_detach;
        if (initFails)
            goto fail_unmap;
        return sg;

    fail_unmap:
        buf.UnmapAttachment(attach, sg);
    fail_detach:
        {|DMA0009:buf.Detach(attach)|};
        return null;
    }"), CodeFixVerifier<DmaBufFlowAnalyzer, UnmapBeforeJumpToDetachFixer>.Class(@"
    object? M(DmaBuffer buf, Device dev, bool noMemory, bool initFails)
    {
        var attach = buf.Attach(dev);
        ScatterGatherTable sg;
        try
        {
            sg = buf.MapAttachment(attach, DmaDataDirection.Bidirectional);
        }
        catch (DmaBufException)
        {
            goto fail_detach;
        }

        if (noMemory)
        {
            buf.UnmapAttachment(attach, sg);
            goto fail_detach;
        }

        if (initFails)
            goto fail_unmap;
        return sg;

    fail_unmap:
        buf.UnmapAttachment(attach, sg);
    fail_detach:
        buf.Detach(attach);
        return null;
    }"), UnmapBeforeJumpToDetachFixer.UnmapBeforeJumpKey);

    [Fact]
    public Task NoFixWithoutAnUnmapToCopy() => CodeFixVerifier<DmaBufFlowAnalyzer, UnmatchedKmapAtJumpFixer>.VerifyNoFixAsync(CodeFixVerifier<DmaBufFlowAnalyzer, UnmatchedKmapAtJumpFixer>.Class(@"
    int M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        for (long p = 0; p < buf.PageCount; p++)
        {
            var page = buf.Kmap(p);
            if (page.Span[0] == 0)
                break;
        }

        buf.EndCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        {|DMA0003:return 0;|}
    }"), UnmatchedKmapAtJumpFixer.UnmapBeforeJumpKey);

    // A throw the method's own catch takes is a jump too: the unmap goes before it, not into the catch (where the page
    // is out of scope).
    [Fact]
    public Task UnmapGoesBeforeAThrowToTheMethodsOwnCatch() => CodeFixVerifier<DmaBufFlowAnalyzer, UnmatchedKmapAtJumpFixer>.VerifyAsync(CodeFixVerifier<DmaBufFlowAnalyzer, UnmatchedKmapAtJumpFixer>.Class(@"
    bool M(DmaBuffer buf, Action<string> log)
    {
        using var access = buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        try
        {
            var page = buf.Kmap(0);
            if (page.Span[0] != 0x7F)
                throw new InvalidOperationException(""bad magic""); // checked
            buf.Kunmap(0, page);
            return true;
        }
        catch (InvalidOperationException e)
        {
            log(e.Message);
            {|DMA0003:return false;|}
        }
    }"), CodeFixVerifier<DmaBufFlowAnalyzer, UnmatchedKmapAtJumpFixer>.Class(@"
    bool M(DmaBuffer buf, Action<string> log)
    {
        using var access = buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        try
        {
            var page = buf.Kmap(0);
            if (page.Span[0] != 0x7F)
            {
                buf.Kunmap(0, page);
                throw new InvalidOperationException(""bad magic""); // checked
            }

            buf.Kunmap(0, page);
            return true;
        }
        catch (InvalidOperationException e)
        {
            log(e.Message);
            return false;
        }
    }"), UnmatchedKmapAtJumpFixer.UnmapBeforeJumpKey);

    // The same for a reference: the Put goes before the throw its catch turns into an error return.
    [Fact]
    public Task PutGoesBeforeAThrowToTheMethodsOwnCatch() => CodeFixVerifier<DmaBufFlowAnalyzer, UnputReferenceAtJumpFixer>.VerifyAsync(CodeFixVerifier<DmaBufFlowAnalyzer, UnputReferenceAtJumpFixer>.Class(@"
    int M(int fd, long minimum)
    {
        try
        {
            var buf = DmaBuffer.Get(fd);
            if (buf.Size < minimum)
                throw new ArgumentException(""too small"");
            long pages = buf.PageCount;
            buf.Put();
            return (int)pages;
        }
        catch (ArgumentException)
        {
            {|DMA0010:return -22;|}
        }
    }"), CodeFixVerifier<DmaBufFlowAnalyzer, UnputReferenceAtJumpFixer>.Class(@"
    int M(int fd, long minimum)
    {
        try
        {
            var buf = DmaBuffer.Get(fd);
            if (buf.Size < minimum)
            {
                buf.Put();
                throw new ArgumentException(""too small"");
            }

            long pages = buf.PageCount;
            buf.Put();
            return (int)pages;
        }
        catch (ArgumentException)
        {
            return -22;
        }
    }"), UnputReferenceAtJumpFixer.PutBeforeJumpKey);

    // A helper that hands its caller a reference (get_dma_buf) acquires it as Get does: the Put goes before the goto
    // that skips the put rung.
    [Fact]
    public Task PutGoesBeforeTheJumpForAReferenceFromAHelper() => CodeFixVerifier<DmaBufFlowAnalyzer, UnputReferenceAtJumpFixer>.VerifyAsync(CodeFixVerifier<DmaBufFlowAnalyzer, UnputReferenceAtJumpFixer>.Class(@"
    static DmaBuffer Take(int fd) => DmaBuffer.Get(fd);

    int M(int fd, Device dev)
    {
        int ret;
        var held = Take(fd);
        try
        {
            var attach = held.Attach(dev);
            held.Detach(attach);
        }
        catch (DmaBufException e)
        {
            ret = -e.Errno;
            goto out_err;
        }

        held.Put();
        return 0;
    out_err:
        {|DMA0010:return ret;|}
    }"), CodeFixVerifier<DmaBufFlowAnalyzer, UnputReferenceAtJumpFixer>.Class(@"
    static DmaBuffer Take(int fd) => DmaBuffer.Get(fd);

    int M(int fd, Device dev)
    {
        int ret;
        var held = Take(fd);
        try
        {
            var attach = held.Attach(dev);
            held.Detach(attach);
        }
        catch (DmaBufException e)
        {
            ret = -e.Errno;
            held.Put();
            goto out_err;
        }

        held.Put();
        return 0;
    out_err:
        return ret;
    }"), UnputReferenceAtJumpFixer.PutBeforeJumpKey);
}
