// A Try-pattern helper `bool TryMap(this DmaBuffer b, long p, out DmaBufPage page)` that maps the page when it exists
// and hands it out through the out parameter (false, with a default page, otherwise); the caller unmaps the page it
// got with a using statement, inside the access it began. Correct: silent.
using DmaBuf;

namespace Idiomatic.Round2;

internal static class TryMapExtensions
{
    public static bool TryMap(this DmaBuffer b, long p, out DmaBufPage page)
    {
        if (p < 0 || p >= b.PageCount)
        {
            page = default;
            return false;
        }

        page = b.Kmap(p);
        return true;
    }
}

internal static class TryMapOutParameter
{
    public static int ByteAt(DmaBuffer buf, long offset)
    {
        using (buf.CpuAccess(0, buf.Size, DmaDataDirection.FromDevice))
        {
            if (!buf.TryMap(offset / DmaBuffer.PageSize, out var page))
                return -1;
            using (page)
                return page.Span[(int)(offset % DmaBuffer.PageSize)];
        }
    }
}
