// A helper that maps a page of its parameter, with nothing begun in it. ReadVersion calls it inside the access it
// began; PeekHeader passes its own parameter on without beginning anything, so the requirement becomes its
// caller's, and it has no caller here. Correct: silent.
using DmaBuf;

namespace Idiomatic;

internal static class HelperKmapCalledWithAccess
{
    public static byte PeekByte(DmaBuffer buf, long offset)
    {
        using var page = buf.KmapAtomic(offset / DmaBuffer.PageSize);
        return page.Span[(int)(offset % DmaBuffer.PageSize)];
    }

    public static byte PeekHeader(DmaBuffer buf) => PeekByte(buf, 0);

    public static byte ReadVersion(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, 16, DmaDataDirection.FromDevice))
            return PeekByte(buf, 4);
    }
}
