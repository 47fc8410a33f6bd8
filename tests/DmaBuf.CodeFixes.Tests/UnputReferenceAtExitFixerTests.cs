// Tests of "Put 'b' before this return" (DMA0010.PutBeforeExit): the early return after a failed check, a returned
// value that reads the buffer, and a path on which the reference was handed away (no fix).
using System.Threading.Tasks;
using Verify = DmaBuf.CodeFixes.Tests.CodeFixVerifier<DmaBuf.Analyzers.Rules.DmaBufFlowAnalyzer, DmaBuf.CodeFixes.UnputReferenceAtExitFixer>;

namespace DmaBuf.CodeFixes.Tests;

public class UnputReferenceAtExitFixerTests
{
    private const string Key = UnputReferenceAtExitFixer.PutBeforeExitKey;

    [Fact]
    public Task EarlyReturnGetsAPutInABlock() => Verify.VerifyAsync(Verify.Class(@"
    int M(int fd, long needed)
    {
        var buf = DmaBuffer.Get(fd);
        if (buf.Size < needed)
            {|DMA0010:return -22;|} // too small
        Console.WriteLine(buf.Size);
        buf.Put();
        return 0;
    }"), Verify.Class(@"
    int M(int fd, long needed)
    {
        var buf = DmaBuffer.Get(fd);
        if (buf.Size < needed)
        {
            buf.Put();
            return -22; // too small
        }

        Console.WriteLine(buf.Size);
        buf.Put();
        return 0;
    }"), Key);

    // The reference comes from a helper of the compilation that takes one (get_dma_buf), stored in a local declared before.
    [Fact]
    public Task ReferenceFromAHelperIsPut() => Verify.VerifyAsync(Verify.Class(@"
    static DmaBuffer Take(DmaBuffer b) => DmaBuffer.Get(b.Fd());

    DmaBuffer? _kept;

    int M(DmaBuffer shared, bool fail)
    {
        DmaBuffer extra;
        extra = Take(shared);
        if (fail)
            {|DMA0010:return -12;|}
        _kept = extra;
        return 0;
    }"), Verify.Class(@"
    static DmaBuffer Take(DmaBuffer b) => DmaBuffer.Get(b.Fd());

    DmaBuffer? _kept;

    int M(DmaBuffer shared, bool fail)
    {
        DmaBuffer extra;
        extra = Take(shared);
        if (fail)
        {
            extra.Put();
            return -12;
        }

        _kept = extra;
        return 0;
    }"), Key);

    // The returned value reads the buffer: it is computed before the Put, as it was before.
    [Fact]
    public Task ReturnedValueIsComputedFirst() => Verify.VerifyAsync(Verify.Class(@"
    long M(int fd, bool quick)
    {
        var buf = DmaBuffer.Get(fd);
        if (quick)
        {
            {|DMA0010:return buf.Size;|}
        }

        buf.Put();
        return 0;
    }"), Verify.Class(@"
    long M(int fd, bool quick)
    {
        var buf = DmaBuffer.Get(fd);
        if (quick)
        {
            long result = buf.Size;
            buf.Put();
            return result;
        }

        buf.Put();
        return 0;
    }"), Key);

    [Fact]
    public Task FixAllPutsOnEveryEarlyReturn() => Verify.VerifyAsync(Verify.Class(@"
    int M(int fd, int mode)
    {
        var buf = DmaBuffer.Get(fd);
        if (mode == 1)
        {
            {|DMA0010:return 1;|}
        }

        if (mode == 2)
        {
            {|DMA0010:return 2;|}
        }

        buf.Put();
        return 0;
    }"), Verify.Class(@"
    int M(int fd, int mode)
    {
        var buf = DmaBuffer.Get(fd);
        if (mode == 1)
        {
            buf.Put();
            return 1;
        }

        if (mode == 2)
        {
            buf.Put();
            return 2;
        }

        buf.Put();
        return 0;
    }"), Key, iterations: 2);
}
