// A static local function that maps a page of its parameter; it is called only inside the accesses its caller
// began on both buffers. Correct: silent.
using System;
using DmaBuf;

namespace Idiomatic;

internal static class LocalFunctionHelper
{
    public static int Compare(DmaBuffer a, DmaBuffer b)
    {
        using (a.CpuAccess(0, a.Size, DmaDataDirection.FromDevice))
        using (b.CpuAccess(0, b.Size, DmaDataDirection.FromDevice))
        {
            long pages = Math.Min(a.PageCount, b.PageCount);
            for (long p = 0; p < pages; p++)
            {
                int diff = Sum(a, p) - Sum(b, p);
                if (diff != 0)
                    return diff;
            }

            return 0;
        }

        static int Sum(DmaBuffer buf, long page)
        {
            using var mapped = buf.KmapAtomic(page);
            return Bytes.Sum(mapped.Span);
        }
    }
}
