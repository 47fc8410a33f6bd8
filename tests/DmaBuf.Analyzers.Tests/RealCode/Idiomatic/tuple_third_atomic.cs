// Two atomic pages taken by tuple deconstruction, then a third for the checksum.
// Bug: the third KmapAtomic is made while the two from the tuple are still held (DMA0004 at the third map).
using DmaBuf;

namespace Idiomatic;

internal static class TupleThirdAtomic
{
    public static void Xor(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional))
        {
            var (a, b) = (buf.KmapAtomic(0), buf.KmapAtomic(1));
            var parity = buf.KmapAtomic(2); // expect: DMA0004
            for (int i = 0; i < DmaBuffer.PageSize; i++)
                parity.Span[i] = (byte)(a.Span[i] ^ b.Span[i]);
            buf.KunmapAtomic(2, parity);
            buf.KunmapAtomic(1, b);
            buf.KunmapAtomic(0, a);
        }
    }
}
