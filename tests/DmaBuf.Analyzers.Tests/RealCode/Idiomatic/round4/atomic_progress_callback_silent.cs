// A page-by-page checksum that reports progress through a callback it is given, from inside each atomic mapping.
// Deliberately silent: the callback is a delegate parameter, so what it runs is not in sight (it may block, or not);
// the call under the atomic mapping is not judged.
using System;
using DmaBuf;

namespace Idiomatic.Round4;

internal static class ProgressChecksum
{
    public static int Checksum(DmaBuffer buf, Action<long, int> progress)
    {
        int total = 0;
        using (buf.CpuAccess(0, buf.Size, DmaDataDirection.FromDevice))
        {
            for (long p = 0; p < buf.PageCount; p++)
            {
                using var page = buf.KmapAtomic(p);
                int sum = Bytes.Sum(page.Span);
                total += sum;
                progress(p, sum);
            }
        }

        return total;
    }
}
