// A recolour pass over every page of the buffer, begun and ended over 0..buf.Size.
// Bug: the access is begun FromDevice and ended ToDevice: the same symbolic range, another direction (DMA0002 at
// the end). The loop's pages are all inside the begun range.
using System;
using DmaBuf;

namespace Idiomatic;

internal static class RangeSymbolicDirectionMismatch
{
    public static void Recolor(DmaBuffer buf, byte from, byte to)
    {
        buf.BeginCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        for (long p = 0; p < buf.PageCount; p++)
        {
            using var page = buf.Kmap(p);
            page.Span.Replace(from, to);
        }

        buf.EndCpuAccess(0, buf.Size, DmaDataDirection.ToDevice); // expect: DMA0002
    }
}
