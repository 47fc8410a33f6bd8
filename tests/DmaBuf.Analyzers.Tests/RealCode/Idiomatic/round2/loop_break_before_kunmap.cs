// An explicit Kmap/Kunmap pair in a loop over the pages, inside an access ended after the loop.
// Bug: the `break` taken when the marker is found leaves the loop between the Kmap and its Kunmap, so that page is
// still mapped when the method returns (DMA0003 at the return). The `continue` path unmaps first.
using System;
using DmaBuf;

namespace Idiomatic.Round2;

internal static class LoopBreakBeforeKunmap
{
    private const byte Marker = 0xA5;

    public static long FindMarker(DmaBuffer buf)
    {
        long found = -1;
        buf.BeginCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        for (long p = 0; p < buf.PageCount; p++)
        {
            var page = buf.Kmap(p);
            if (page.Span[0] == 0)
            {
                buf.Kunmap(p, page);
                continue;
            }

            if (page.Span[0] == Marker)
            {
                found = p;
                break;
            }

            buf.Kunmap(p, page);
        }

        buf.EndCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        return found; // expect: DMA0003
    }
}
