// A page index that comes from the caller, mapped inside a one-page access.
// Deliberately silent: the analysis cannot know whether `index` is 0; an unknown page number is not reported.
using DmaBuf;

namespace Idiomatic;

internal static class RangeUnknownPageSilent
{
    public static byte ByteAt(DmaBuffer buf, long index, int offset)
    {
        using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice))
        using (var page = buf.Kmap(index))
            return page.Span[offset];
    }
}
