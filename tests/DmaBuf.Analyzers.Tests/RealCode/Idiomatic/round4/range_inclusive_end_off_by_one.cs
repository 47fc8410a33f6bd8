// A copy of one page-aligned region of a buffer into a caller's span, the region given by constants.
// Bug: the loop bound treats the exclusive end as inclusive (`p <= (Start + Length) / PageSize`), so its last
// iteration maps page 2, outside the begun span (page 1 only): DMA0006 at the kmap.
using System;
using DmaBuf;

namespace Idiomatic.Round4;

internal static class RegionCopy
{
    private const long Start = DmaBuffer.PageSize;
    private const long Length = DmaBuffer.PageSize;

    public static void CopyRegion(DmaBuffer buf, Span<byte> destination)
    {
        using var access = buf.CpuAccess(Start, Length, DmaDataDirection.FromDevice);
        for (long p = Start / DmaBuffer.PageSize; p <= (Start + Length) / DmaBuffer.PageSize; p++)
        {
            using var page = buf.Kmap(p); // expect: DMA0006
            int offset = (int)(p * DmaBuffer.PageSize - Start);
            page.Span[..Math.Min(DmaBuffer.PageSize, destination.Length - offset)].CopyTo(destination[offset..]);
        }
    }
}
