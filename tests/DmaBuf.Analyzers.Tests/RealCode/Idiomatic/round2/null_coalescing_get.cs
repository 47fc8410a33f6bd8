// `cached ?? DmaBuffer.Get(fd)`: the buffer is the caller's cached one or a reference taken here; the put at the end is
// under the same null test of the unchanged `cached`, so only the taken reference is put. Correct: silent.
using DmaBuf;

namespace Idiomatic.Round2;

internal static class NullCoalescingGet
{
    public static long PageCount(DmaBuffer? cached, int fd)
    {
        DmaBuffer buf = cached ?? DmaBuffer.Get(fd);
        long pages = buf.PageCount;
        if (cached is null)
            buf.Put();
        return pages;
    }
}
