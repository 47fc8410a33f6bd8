// A local function that only reads the captured buffer's page count, called directly (never turned into a delegate).
// The reference Get took is never put, a real leak. Deliberately silent: a buffer captured by a local function or a
// lambda is handed to code the analysis follows separately (docs/rules/DMA0010.md, "captured by a lambda or local
// function"), so the variable is not followed in the method that captures it.
using DmaBuf;

namespace Idiomatic.Round2;

internal static class LocalFunctionCaptureGetLeak
{
    public static long Pages(int fd)
    {
        var buf = DmaBuffer.Get(fd);
        long n = PageCount();
        return n;

        long PageCount() => buf.PageCount;
    }
}
