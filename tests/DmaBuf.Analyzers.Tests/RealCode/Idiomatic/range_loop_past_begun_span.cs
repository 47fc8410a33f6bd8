// A buffer exported here with a constant size of four pages; only the first two pages are begun.
// Bug: the loop runs to buf.PageCount (4), so pages 2 and 3 are mapped outside the begun span (DMA0006 at the
// kmap, on some iteration).
using DmaBuf;

namespace Idiomatic;

internal static class RangeLoopPastBegunSpan
{
    public static int BuildAndSum()
    {
        var buf = DmaBuffer.Export(new SystemHeapExporter(), 4 * DmaBuffer.PageSize);
        try
        {
            int sum = 0;
            buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
            for (long p = 0; p < buf.PageCount; p++)
            {
                using var page = buf.Kmap(p); // expect: DMA0006
                sum += Bytes.Sum(page.Span);
            }

            buf.EndCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
            return sum;
        }
        finally
        {
            buf.Put();
        }
    }
}
