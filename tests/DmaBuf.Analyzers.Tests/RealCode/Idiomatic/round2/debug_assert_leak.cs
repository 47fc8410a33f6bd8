// Debug.Assert with the buffer in its condition and message after a Get.
// Bug: the early return for an undersized buffer does not put the reference Get took (DMA0010 at that return).
// Debug.Assert and the interpolated message only read the buffer; they do not keep it.
using System.Diagnostics;
using DmaBuf;

namespace Idiomatic.Round2;

internal static class DebugAssertLeak
{
    public static long Pages(int fd, long minimum)
    {
        var buf = DmaBuffer.Get(fd);
        Debug.Assert(buf.ReferenceCount > 0, $"imported {buf} with no reference");
        if (buf.PageCount < minimum)
            return 0; // expect: DMA0010
        long pages = buf.PageCount;
        buf.Put();
        return pages;
    }
}
