// The first half of the buffer, begun and ended as `buf.Size / 2` at both ends (the same expression over an
// unchanged parameter), with page 0 mapped inside. Correct: silent.
using DmaBuf;

namespace Idiomatic;

internal static class RangeHalfSize
{
    public static void ClearFirstHalfHeader(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, buf.Size / 2, DmaDataDirection.ToDevice);
        using (var page = buf.Kmap(0))
            page.Span[..64].Clear();
        buf.EndCpuAccess(0, buf.Size / 2, DmaDataDirection.ToDevice);
    }
}
