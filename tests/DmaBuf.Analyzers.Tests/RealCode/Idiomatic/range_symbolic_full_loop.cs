// Begin and end over 0..buf.Size with explicit calls, and a loop `p < buf.PageCount` that maps every page: all
// inside the begun span, and the end is the same expression as the begin. Correct: silent.
using DmaBuf;

namespace Idiomatic;

internal static class RangeSymbolicFullLoop
{
    public static void Scramble(DmaBuffer buf, byte key)
    {
        buf.BeginCpuAccess(0, buf.Size, DmaDataDirection.Bidirectional);
        try
        {
            for (long p = 0; p < buf.PageCount; p++)
            {
                using var page = buf.KmapAtomic(p);
                var span = page.Span;
                for (int i = 0; i < span.Length; i++)
                    span[i] ^= key;
            }
        }
        finally
        {
            buf.EndCpuAccess(0, buf.Size, DmaDataDirection.Bidirectional);
        }
    }
}
