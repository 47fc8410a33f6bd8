// Early returns from inside nested using statements (a scope, then an atomic page): each return disposes the page,
// then the scope, in that order. Correct: silent.
using System;
using DmaBuf;

namespace Idiomatic.Round2;

internal static class EarlyReturnInsideUsings
{
    public static int Classify(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice))
        {
            using (var first = buf.KmapAtomic(0))
            {
                if (first.Span[0] == 0)
                    return 0;
                if (first.Span[0] == 0xFF)
                    return -1;
            }

            using (var second = buf.KmapAtomic(1))
            {
                return second.Span[0] == 0 ? 1 : 2;
            }
        }
    }
}
