// A foreach over this file's own iterator while an atomic page is held: the iterator only computes page numbers,
// and each iteration maps and unmaps one more atomic page (two held at most). Correct: silent.
using System.Collections.Generic;
using DmaBuf;

namespace Idiomatic;

internal static class IteratorForeachOwnNonBlocking
{
    private static IEnumerable<long> EveryOtherPage(long pageCount)
    {
        for (long p = 2; p < pageCount; p += 2)
            yield return p;
    }

    public static void StampEvenPages(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, buf.Size, DmaDataDirection.Bidirectional))
        {
            using var stamp = buf.KmapAtomic(0);
            foreach (long p in EveryOtherPage(buf.PageCount))
            {
                using var page = buf.KmapAtomic(p);
                page.Span[0] = stamp.Span[0];
            }
        }
    }
}
