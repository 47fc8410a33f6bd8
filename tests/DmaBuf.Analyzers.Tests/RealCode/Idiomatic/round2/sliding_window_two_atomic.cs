// A sliding window of two atomic pages over a 4-page buffer: map the next page, compare with the previous one, unmap
// the previous one, move on; at most two atomic mappings are held, and the last one is unmapped after the loop.
// Correct: silent.
using DmaBuf;

namespace Idiomatic.Round2;

internal static class SlidingWindowTwoAtomic
{
    public static int Steps(DmaBufExporter exporter)
    {
        var buf = DmaBuffer.Export(exporter, 4 * DmaBuffer.PageSize);
        int diff = 0;
        buf.BeginCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        DmaBufPage prev = buf.KmapAtomic(0);
        for (long p = 1; p < 4; p++)
        {
            var cur = buf.KmapAtomic(p);
            diff += cur.Span[0] - prev.Span[0];
            buf.KunmapAtomic(p - 1, prev);
            prev = cur;
        }

        buf.KunmapAtomic(3, prev);
        buf.EndCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        buf.Put();
        return diff;
    }
}
