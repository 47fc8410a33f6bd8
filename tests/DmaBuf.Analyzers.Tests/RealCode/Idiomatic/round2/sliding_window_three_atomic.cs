// A window over a 4-page buffer that keeps the two previous atomic pages while it maps the next one.
// Bug: from the first iteration on, three atomic mappings are held at once (DMA0004 at the KmapAtomic in the loop).
// The unmapping itself is right: each iteration unmaps page p - 2, and after the loop (p = 2, 3) `older` holds page 2
// and `old` page 3, which are unmapped with those numbers.
using DmaBuf;

namespace Idiomatic.Round2;

internal static class SlidingWindowThreeAtomic
{
    public static int Sum(DmaBufExporter exporter)
    {
        var buf = DmaBuffer.Export(exporter, 4 * DmaBuffer.PageSize);
        int sum = 0;
        buf.BeginCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        DmaBufPage older = buf.KmapAtomic(0);
        DmaBufPage old = buf.KmapAtomic(1);
        for (long p = 2; p < 4; p++)
        {
            var cur = buf.KmapAtomic(p); // expect: DMA0004
            sum += cur.Span[0] + old.Span[0] + older.Span[0];
            buf.KunmapAtomic(p - 2, older);
            older = old;
            old = cur;
        }

        buf.KunmapAtomic(2, older);
        buf.KunmapAtomic(3, old);
        buf.EndCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        buf.Put();
        return sum;
    }
}
