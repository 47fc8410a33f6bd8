// A Parallel.ForEach over imported descriptors that adds up a length field from each frame's header.
// Bug: inside the loop body, a frame that fails the size check makes the lambda return without putting the reference
// Get took (DMA0010 at that return). A frame that passes is read under using declarations and put in a finally.
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using DmaBuf;

namespace Idiomatic.Round4;

internal static class FrameHeaderTotals
{
    private const long MinimumSize = 2 * DmaBuffer.PageSize;

    public static long SumPayloadLengths(IEnumerable<int> descriptors)
    {
        long total = 0;
        Parallel.ForEach(descriptors, fd =>
        {
            var buf = DmaBuffer.Get(fd);
            if (buf.Size < MinimumSize)
                return; // expect: DMA0010
            try
            {
                using var access = buf.CpuAccess(0, sizeof(int), DmaDataDirection.FromDevice);
                using var page = buf.KmapAtomic(0);
                Interlocked.Add(ref total, BinaryPrimitives.ReadInt32LittleEndian(page.Span));
            }
            finally
            {
                buf.Put();
            }
        });
        return total;
    }
}
