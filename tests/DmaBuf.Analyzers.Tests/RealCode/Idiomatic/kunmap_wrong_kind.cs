// A sequence stamp written through an atomic mapping.
// Bug: the page mapped with KmapAtomic is unmapped with Kunmap (DMA0003 at the unmap).
using System.Buffers.Binary;
using DmaBuf;

namespace Idiomatic;

internal static class KunmapWrongKind
{
    public static void Stamp(DmaBuffer buf, uint sequence)
    {
        using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice))
        {
            var page = buf.KmapAtomic(0);
            BinaryPrimitives.WriteUInt32LittleEndian(page.Span, sequence);
            buf.Kunmap(0, page); // expect: DMA0003
        }
    }
}
