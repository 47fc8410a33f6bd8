// A search over the pages that breaks out of the loop when it finds an empty page.
// Bug: the break leaves that page mapped; the path it starts returns at the end of the method (DMA0003 at that
// return, the way out the rule reports).
using DmaBuf;

namespace Idiomatic.Round3;

internal static class SearchBreakLeavesPage
{
    public static long FindZero(DmaBuffer buf)
    {
        long found = -1;
        buf.BeginCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        for (long p = 0; p < buf.PageCount; p++)
        {
            var page = buf.Kmap(p);
            if (page.Span[0] == 0)
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
