// Tests of "Put 'buf' after its last use" (DMA0011.PutAfterUse): the Put moves past the uses that follow it in its
// block, a helper that puts moves the same way, Fix All; no fix when a way out lies between or the use is on a later
// iteration.
using System.Threading.Tasks;
using Verify = DmaBuf.CodeFixes.Tests.CodeFixVerifier<DmaBuf.Analyzers.Rules.DmaBufFlowAnalyzer, DmaBuf.CodeFixes.UseAfterPutFixer>;

namespace DmaBuf.CodeFixes.Tests;

public class UseAfterPutFixerTests
{
    private const string Key = UseAfterPutFixer.PutAfterUseKey;

    [Fact]
    public Task PutMovesAfterTheLastUse() => Verify.VerifyAsync(Verify.Class(@"
    long M(int fd, Device device)
    {
        var buf = DmaBuffer.Get(fd);
        var att = buf.Attach(device);
        buf.Put(); // done with it
        long size = 0;
        {|DMA0011:buf|}.Detach(att);
        Console.WriteLine(size);
        return size;
    }"), Verify.Class(@"
    long M(int fd, Device device)
    {
        var buf = DmaBuffer.Get(fd);
        var att = buf.Attach(device);
        // done with it
        long size = 0;
        buf.Detach(att);
        buf.Put();
        Console.WriteLine(size);
        return size;
    }"), Key);

    // The helper that puts moves as a whole, past both uses; Fix All takes one pass.
    [Fact]
    public Task HelperThatPutsMovesPastEveryUse() => Verify.VerifyAsync(Verify.Class(@"
    static void Drop(DmaBuffer b) => b.Put();

    void M(int fd)
    {
        var buf = DmaBuffer.Get(fd);
        Drop(buf);
        Console.WriteLine({|DMA0011:buf|}.Size);
        Console.WriteLine({|DMA0011:buf|}.PageCount);
    }"), Verify.Class(@"
    static void Drop(DmaBuffer b) => b.Put();

    void M(int fd)
    {
        var buf = DmaBuffer.Get(fd);
        Console.WriteLine(buf.Size);
        Console.WriteLine(buf.PageCount);
        Drop(buf);
    }"), Key);

    [Fact]
    public Task NoFixWhenAWayOutLiesBetween() => Verify.VerifyNoFixAsync(Verify.Class(@"
    long M(int fd, bool quick)
    {
        var buf = DmaBuffer.Get(fd);
        buf.Put();
        if (quick)
            return 0;
        return {|DMA0011:buf|}.Size;
    }"), Key);

    [Fact]
    public Task NoFixForAUseOnTheNextIteration() => Verify.VerifyNoFixAsync(Verify.Class(@"
    long M(int[] fds)
    {
        long total = 0;
        DmaBuffer? previous = null;
        foreach (int fd in fds)
        {
            if (previous != null)
                total += {|DMA0011:previous|}.Size;
            previous = DmaBuffer.Get(fd);
            previous.Put();
        }

        return total;
    }"), Key);
}
