// A local function that only reads the captured buffer's page count, called directly (never turned into a delegate).
// Bug: the reference Get took is never put (DMA0010 at the return). A local function that is only called cannot keep
// the buffer beyond the call: capturing it there is not handing it on.
using DmaBuf;

namespace Idiomatic.Round2;

internal static class LocalFunctionCaptureGetLeak
{
    public static long Pages(int fd)
    {
        var buf = DmaBuffer.Get(fd);
        long n = PageCount();
        return n; // expect: DMA0010

        long PageCount() => buf.PageCount;
    }
}
