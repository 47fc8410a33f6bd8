// A header page read atomically, then a parallel pass over the other pages' checksums.
// Bug: Parallel.For waits for every iteration, and it is called while the header's atomic mapping is still held
// (DMA0005 at Parallel.For).
using System.Threading.Tasks;
using DmaBuf;

namespace Idiomatic;

internal static class ParallelForUnderAtomic
{
    public static long[] Weights(DmaBuffer buf, int count)
    {
        var weights = new long[count];
        using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice))
        {
            var header = buf.KmapAtomic(0);
            int stride = header.Span[0] + 1;
            Parallel.For(0, count, i => weights[i] = (long)i * stride); // expect: DMA0005
            buf.KunmapAtomic(0, header);
        }

        return weights;
    }
}
