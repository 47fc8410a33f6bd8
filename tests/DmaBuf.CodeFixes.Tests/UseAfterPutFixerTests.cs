// Tests of "Put 'buf' after its last use" (DMA0011.PutAfterUse): the Put moves past the uses that follow it in its
// block, a helper that puts moves the same way, Fix All; no fix when a way out lies between or the use is on a later
// iteration. Tests of "Read 'buf.Size' before the reference is put" (DMA0011.ReadBeforePut): a helper that puts on
// the path its checked result lets through, the code's own Put before a return; none for a property that changes, a
// variable that may be null there, or a later iteration.
using System.Threading.Tasks;
using Verify = DmaBuf.CodeFixes.Tests.CodeFixVerifier<DmaBuf.Analyzers.Rules.DmaBufFlowAnalyzer, DmaBuf.CodeFixes.UseAfterPutFixer>;

namespace DmaBuf.CodeFixes.Tests;

public class UseAfterPutFixerTests
{
    private const string Key = UseAfterPutFixer.PutAfterUseKey;

    private const string ReadKey = UseAfterPutFixer.ReadBeforePutKey;

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

    // Reading 'previous.Size' before the Put would read this iteration's buffer for the next one: neither fix.
    [Theory]
    [InlineData(Key)]
    [InlineData(ReadKey)]
    public Task NoFixForAUseOnTheNextIteration(string key) => Verify.VerifyNoFixAsync(Verify.Class(@"
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
    }"), key);

    // The helper puts the reference on the path whose result the check lets through (a cache hit keeps the buffer in
    // the cache): the size is read before the call, while the code still holds its reference.
    [Fact]
    public Task FixedPropertyIsReadBeforeAHelperThatPuts() => Verify.VerifyAsync(Nullable + Verify.Class(@"
    static int Cache(DmaBuffer b, bool hit)
    {
        if (hit)
        {
            b.Put();
            return 0;
        }

        return 1;
    }

    int Map(int fd, bool hit, long[]? size)
    {
        DmaBuffer buf = DmaBuffer.Get(fd);
        // hand it to the cache
        int err = Cache(buf, hit);
        if (err != 0)
        {
            buf.Put();
            return err;
        }

        if (size != null)
            size[0] = {|DMA0011:buf|}.Size - 16; // past the header
        return 0;
    }"), Nullable + Verify.Class(@"
    static int Cache(DmaBuffer b, bool hit)
    {
        if (hit)
        {
            b.Put();
            return 0;
        }

        return 1;
    }

    int Map(int fd, bool hit, long[]? size)
    {
        DmaBuffer buf = DmaBuffer.Get(fd);
        long bufSize = buf.Size;
        // hand it to the cache
        int err = Cache(buf, hit);
        if (err != 0)
        {
            buf.Put();
            return err;
        }

        if (size != null)
            size[0] = bufSize - 16; // past the header
        return 0;
    }"), ReadKey);

    // The code's own Put, then a return that reads: the Put cannot move past the return, the read can move before
    // the Put; one fix replaces both reads.
    [Fact]
    public Task FixedPropertyIsReadBeforeTheCodesOwnPut() => Verify.VerifyAsync(Verify.Class(@"
    int Pages(int fd)
    {
        var dmabuf = DmaBuffer.Get(fd);
        dmabuf.Put();
        Console.WriteLine({|DMA0011:dmabuf|}.PageCount);
        return (int){|DMA0011:dmabuf|}.PageCount;
    }"), Verify.Class(@"
    int Pages(int fd)
    {
        var dmabuf = DmaBuffer.Get(fd);
        long dmabufPageCount = dmabuf.PageCount;
        dmabuf.Put();
        Console.WriteLine(dmabufPageCount);
        return (int)dmabufPageCount;
    }"), ReadKey);

    // MappedPageCount changes while the buffer lives: read earlier, it could give another value.
    [Fact]
    public Task NoReadBeforePutForAPropertyThatChanges() => Verify.VerifyNoFixAsync(Verify.Class(@"
    long Mapped(int fd)
    {
        var buf = DmaBuffer.Get(fd);
        buf.Put();
        return {|DMA0011:buf|}.MappedPageCount;
    }"), ReadKey);

    // The helper takes a buffer that may be null: reading its size before the call could throw where the code did not.
    [Fact]
    public Task NoReadBeforePutWhenTheVariableMayBeNull() => Verify.VerifyNoFixAsync(Nullable + Verify.Class(@"
    static void Release(DmaBuffer? b)
    {
        if (b != null)
            b.Put();
    }

    void Show(int fd, bool open)
    {
        DmaBuffer? buf = open ? DmaBuffer.Get(fd) : null;
        Release(buf);
        if (buf != null)
            Console.WriteLine({|DMA0011:buf|}.Size);
    }"), ReadKey);

    private const string Nullable = "#nullable enable\n";
}
