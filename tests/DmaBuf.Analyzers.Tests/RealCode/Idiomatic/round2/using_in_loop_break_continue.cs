// A `using` declaration inside a loop body with `continue` and `break`: each way out of the iteration disposes the
// page mapped in it, and the access (a using statement around the loop) ends after the loop. Correct: silent.
using System;
using DmaBuf;

namespace Idiomatic.Round2;

internal static class UsingInLoopBreakContinue
{
    public static long FindFirstNonZeroPage(DmaBuffer buf)
    {
        long found = -1;
        using (buf.CpuAccess(0, buf.Size, DmaDataDirection.FromDevice))
        {
            for (long p = 0; p < buf.PageCount; p++)
            {
                using var page = buf.KmapAtomic(p);
                if (page.Span.IndexOfAnyExcept((byte)0) < 0)
                    continue;
                found = p;
                break;
            }
        }

        return found;
    }
}
