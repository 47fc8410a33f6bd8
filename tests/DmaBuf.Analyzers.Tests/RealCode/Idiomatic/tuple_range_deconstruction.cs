// The begun range comes from a deconstructed tuple `var (start, length) = (0, 2 * PageSize)`; the end reuses the
// same unchanged locals and the pages mapped are 0 and 1, both inside. Correct: silent.
using DmaBuf;

namespace Idiomatic;

internal static class TupleRangeDeconstruction
{
    public static int SumHead(DmaBuffer buf)
    {
        var (start, length) = (0, 2 * DmaBuffer.PageSize);
        buf.BeginCpuAccess(start, length, DmaDataDirection.FromDevice);
        int sum;
        using (var first = buf.KmapAtomic(0))
        using (var second = buf.KmapAtomic(1))
            sum = Bytes.Sum(first.Span) + Bytes.Sum(second.Span);
        buf.EndCpuAccess(start, length, DmaDataDirection.FromDevice);
        return sum;
    }
}
