// A scope taken only for a non-coherent buffer (`coherent ? null : buf.CpuAccess(...)`), on the belief that a
// coherent buffer needs no begin/end.
// Bug: on the coherent path no CPU access is begun, yet the page is mapped (DMA0007 at the kmap).
using DmaBuf;

namespace Idiomatic;

internal static class ConditionalScopeKmapWithout
{
    public static byte Status(DmaBuffer buf, bool coherent)
    {
        using var access = coherent ? null : buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        using var page = buf.KmapAtomic(0); // expect: DMA0007
        return page.Span[0];
    }
}
