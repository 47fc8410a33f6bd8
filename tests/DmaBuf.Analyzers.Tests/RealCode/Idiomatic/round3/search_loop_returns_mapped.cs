// A search that returns the number of the first page holding a marker.
// Bug: it returns from inside the loop with that page still mapped (DMA0003 at the return).
using System;
using DmaBuf;

namespace Idiomatic.Round3;

internal static class SearchLoopReturnsMapped
{
    public static long IndexOf(DmaBuffer buf, byte marker)
    {
        using var access = buf.CpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        for (long p = 0; p < buf.PageCount; p++)
        {
            var page = buf.Kmap(p);
            if (page.Span.IndexOf(marker) >= 0)
                return p; // expect: DMA0003
            buf.Kunmap(p, page);
        }

        return -1;
    }
}
