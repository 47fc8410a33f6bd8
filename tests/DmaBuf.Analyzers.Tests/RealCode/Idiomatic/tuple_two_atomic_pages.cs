// Tuple deconstruction maps two pages atomically at once; both are unmapped explicitly before the scope ends.
// Correct: silent.
using DmaBuf;

namespace Idiomatic;

internal static class TupleTwoAtomicPages
{
    public static void CopyLowToHigh(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional))
        {
            var (lo, hi) = (buf.KmapAtomic(0), buf.KmapAtomic(1));
            lo.Span.CopyTo(hi.Span);
            buf.KunmapAtomic(1, hi);
            buf.KunmapAtomic(0, lo);
        }
    }
}
