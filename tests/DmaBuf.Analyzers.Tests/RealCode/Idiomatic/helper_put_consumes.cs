// A helper that puts the buffer it is given consumes the caller's reference, so the caller needs no Put of its
// own; afterwards the caller only reads IsReleased, which is not a use. Correct: silent.
using System.Diagnostics;
using DmaBuf;

namespace Idiomatic;

internal static class HelperPutConsumes
{
    private static void Release(DmaBuffer buf)
    {
        Debug.WriteLine($"releasing {buf}");
        buf.Put();
    }

    public static long PagesOf(int fd)
    {
        var buf = DmaBuffer.Get(fd);
        long pages = buf.PageCount;
        Release(buf);
        Debug.WriteLine($"released: {buf.IsReleased}");
        return pages;
    }
}
