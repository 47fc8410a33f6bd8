// The body of a buffer is begun through a deconstructed tuple that skips the header page.
// Bug: the header page 0 is then mapped, outside pages 1..2 of the begun range (DMA0006 at the kmap).
using DmaBuf;

namespace Idiomatic;

internal static class TupleRangeKmapOutside
{
    public static int BodyChecksumWithTag(DmaBuffer buf)
    {
        var (start, length) = (DmaBuffer.PageSize, 2 * DmaBuffer.PageSize);
        using (buf.CpuAccess(start, length, DmaDataDirection.FromDevice))
        {
            int sum;
            using (var body = buf.Kmap(1))
                sum = Bytes.Sum(body.Span);
            using (var header = buf.Kmap(0)) // expect: DMA0006
                sum ^= header.Span[0];
            return sum;
        }
    }
}
