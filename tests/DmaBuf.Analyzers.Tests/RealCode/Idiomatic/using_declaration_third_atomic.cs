// Using declarations that map three pages atomically in one block.
// Bug: the third KmapAtomic is made while two atomic mappings are still held (DMA0004 at the third map).
using DmaBuf;

namespace Idiomatic;

internal static class UsingDeclarationThirdAtomic
{
    public static int Mix(DmaBuffer buf)
    {
        using var access = buf.CpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        using var a = buf.KmapAtomic(0);
        using var b = buf.KmapAtomic(1);
        using var c = buf.KmapAtomic(2); // expect: DMA0004
        return a.Span[0] + b.Span[0] + c.Span[0];
    }
}
