// Three pages mixed through three atomic mappings in straight-line code.
// Bug: three atomic mappings are held at once when the third page is mapped (DMA0004 at the third KmapAtomic).
using DmaBuf;

namespace Idiomatic.Round3;

internal static class ThreeAtomicLocals
{
    public static int Mix(DmaBuffer buf)
    {
        using var access = buf.CpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        var a = buf.KmapAtomic(0);
        var b = buf.KmapAtomic(1);
        var c = buf.KmapAtomic(2); // expect: DMA0004
        int value = a.Span[0] ^ b.Span[0] ^ c.Span[0];
        buf.KunmapAtomic(2, c);
        buf.KunmapAtomic(1, b);
        buf.KunmapAtomic(0, a);
        return value;
    }
}
