// Tests of "End the CPU access only where it was begun" (DMA0002.EndWhereBegun): an error label that the begin's own
// failure also jumps to, an end after a begin on one branch, Fix All over both, and no fix for an end with nothing
// begun on any path.
using System.Threading.Tasks;
using Verify = DmaBuf.CodeFixes.Tests.CodeFixVerifier<DmaBuf.Analyzers.Rules.DmaBufFlowAnalyzer, DmaBuf.CodeFixes.UnbegunEndCpuAccessFixer>;

namespace DmaBuf.CodeFixes.Tests;

public class UnbegunEndCpuAccessFixerTests
{
    private const string Key = UnbegunEndCpuAccessFixer.EndWhereBegunKey;

    private const string Ladder = @"
    int Ladder(DmaBuffer buf, int offset)
    {
        int ret = 0;
        try
        {
            buf.BeginCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        }
        catch (DmaBufException e)
        {
            ret = -e.Errno;
        }

        if (ret != 0)
            goto done;
        if (offset < 0)
        {
            ret = -22;
            goto done;
        }

        using (var page = buf.Kmap(0))
            ret = page.Span[offset];
    done:
        Console.WriteLine(ret);
        {|DMA0002:buf.EndCpuAccess(0, buf.Size, DmaDataDirection.FromDevice)|}; // done with it
        buf.Put();
        return ret;
    }";

    private const string LadderFixed = @"
    int Ladder(DmaBuffer buf, int offset)
    {
        int ret = 0;
        bool accessBegun = false;
        try
        {
            buf.BeginCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
            accessBegun = true;
        }
        catch (DmaBufException e)
        {
            ret = -e.Errno;
        }

        if (ret != 0)
            goto done;
        if (offset < 0)
        {
            ret = -22;
            goto done;
        }

        using (var page = buf.Kmap(0))
            ret = page.Span[offset];
    done:
        Console.WriteLine(ret);
        if (accessBegun)
        {
            buf.EndCpuAccess(0, buf.Size, DmaDataDirection.FromDevice); // done with it
        }

        buf.Put();
        return ret;
    }";

    private const string Branch = @"
    void Branch(DmaBuffer frame, bool touch)
    {
        if (touch)
        {
            frame.BeginCpuAccess(DmaDataDirection.ToDevice);
            using var page = frame.Kmap(0);
            page.Span[0] = 1;
        }

        {|DMA0002:frame.EndCpuAccess(DmaDataDirection.ToDevice)|};
    }";

    private const string BranchFixed = @"
    void Branch(DmaBuffer frame, bool touch)
    {
        bool accessBegun = false;
        if (touch)
        {
            frame.BeginCpuAccess(DmaDataDirection.ToDevice);
            accessBegun = true;
            using var page = frame.Kmap(0);
            page.Span[0] = 1;
        }

        if (accessBegun)
        {
            frame.EndCpuAccess(DmaDataDirection.ToDevice);
        }
    }";

    [Fact]
    public Task ErrorLabelReachedBeforeTheBeginSucceededEndsOnlyWhereBegun() => Verify.VerifyAsync(Verify.Class(Ladder), Verify.Class(LadderFixed), Key);

    [Fact]
    public Task EndAfterABeginOnOneBranchEndsOnlyWhereBegun() => Verify.VerifyAsync(Verify.Class(Branch), Verify.Class(BranchFixed), Key);

    [Fact]
    public Task FixAllGuardsEveryEnd() => Verify.VerifyAsync(Verify.Class(Ladder + "\n" + Branch), Verify.Class(LadderFixed + "\n" + BranchFixed), Key, iterations: 2);

    // Nothing is begun on any path: a flag would never be set, and whether the end belongs there the code does not say.
    [Fact]
    public Task NoFixForAnEndWithNothingBegun() => Verify.VerifyNoFixAsync(Verify.Class(@"
    void M(int fd)
    {
        var buf = DmaBuffer.Get(fd);
        {|DMA0002:buf.EndCpuAccess(0, buf.Size, DmaDataDirection.FromDevice)|};
        buf.Put();
    }"), Key);

    // The end sits under the code's own test of the attachment: the flag joins that condition.
    [Fact]
    public Task EndUnderANullTestOfTheAttachmentGetsTheFlagInItsCondition() => Verify.VerifyAsync(Verify.Class(@"
    int M(DmaBufAttachment? att)
    {
        int ret = 0;
        if (att != null)
        {
            try
            {
                att.Buffer.BeginCpuAccess(DmaDataDirection.FromDevice);
            }
            catch (DmaBufException e)
            {
                ret = -e.Errno;
            }

            if (ret != 0)
                goto out_end;
        }

        ret = 1;
    out_end:
        if (att != null)
            {|DMA0002:att.Buffer.EndCpuAccess(DmaDataDirection.FromDevice)|};
        return ret;
    }"), Verify.Class(@"
    int M(DmaBufAttachment? att)
    {
        int ret = 0;
        bool accessBegun = false;
        if (att != null)
        {
            try
            {
                att.Buffer.BeginCpuAccess(DmaDataDirection.FromDevice);
                accessBegun = true;
            }
            catch (DmaBufException e)
            {
                ret = -e.Errno;
            }

            if (ret != 0)
                goto out_end;
        }

        ret = 1;
    out_end:
        if (att != null && accessBegun)
            att.Buffer.EndCpuAccess(DmaDataDirection.FromDevice);
        return ret;
    }"), Key);
}
