// An iterator over the first byte of every page, mapping each page atomically.
// Bug: `yield return` suspends the iterator while the atomic page is still mapped (the using declaration releases
// it only at the end of the iteration): DMA0005 at the yield.
using System.Collections.Generic;
using DmaBuf;

namespace Idiomatic;

internal static class IteratorYieldUnderAtomic
{
    public static IEnumerable<byte> FirstBytes(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, buf.Size, DmaDataDirection.FromDevice))
        {
            for (long p = 0; p < buf.PageCount; p++)
            {
                using var page = buf.KmapAtomic(p);
                yield return page.Span[0]; // expect: DMA0005
            }
        }
    }
}
