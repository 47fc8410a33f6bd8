// A page n mapped, then unmapped as page n + 1 (an off-by-one from a loop that was removed).
// Bug: whatever n is, n + 1 is another page number than the one mapped (DMA0003 at the Kunmap).
using DmaBuf;

namespace Idiomatic.Round2;

internal static class KunmapNextPageNumber
{
    public static byte Peek(DmaBuffer buf, long n)
    {
        using var access = buf.CpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        var page = buf.Kmap(n);
        byte value = page.Span[0];
        buf.Kunmap(n + 1, page); // expect: DMA0003
        return value;
    }
}
