// An iterator that yields the first byte of every page from inside a begun access; each page is unmapped before
// the yield, and the scope ends when the enumeration ends or is disposed. Correct: silent.
using System.Collections.Generic;
using DmaBuf;

namespace Idiomatic;

internal static class IteratorYieldInsideAccess
{
    public static IEnumerable<byte> FirstBytes(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, buf.Size, DmaDataDirection.FromDevice))
        {
            for (long p = 0; p < buf.PageCount; p++)
            {
                byte first;
                using (var page = buf.Kmap(p))
                    first = page.Span[0];
                yield return first;
            }
        }
    }
}
