// A clear that begins the access only for a buffer that is not coherent, on the belief that a coherent one needs no
// begin, and maps and ends unconditionally.
// Bug: on the coherent path the page is mapped and the access ended with nothing begun (DMA0007 at the kmap, DMA0002
// at the end).
using DmaBuf;

namespace Idiomatic.Round3;

internal static class ConditionalBeginUnconditionalEnd
{
    public static void Clear(DmaBuffer buf, bool coherent)
    {
        if (!coherent)
            buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        using (var page = buf.Kmap(0)) // expect: DMA0007
            page.Span.Clear();
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice); // expect: DMA0002
    }
}
