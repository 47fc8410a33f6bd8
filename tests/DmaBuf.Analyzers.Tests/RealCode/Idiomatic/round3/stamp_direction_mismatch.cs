// A tag byte written through a kmap.
// Bug: the access is begun ToDevice and ended FromDevice (DMA0002 at the end).
using DmaBuf;

namespace Idiomatic.Round3;

internal static class StampDirectionMismatch
{
    public static void Stamp(DmaBuffer buf, byte tag)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        using (var page = buf.Kmap(0))
        {
            page.Span[0] = tag; // the tag byte
        }

        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice); // expect: DMA0002
    }
}
