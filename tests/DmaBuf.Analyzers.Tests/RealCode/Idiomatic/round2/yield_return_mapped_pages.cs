// An iterator that yields mapped pages (`yield return b.Kmap(p)`); the consumer begins the access over the whole
// buffer and disposes each page in the foreach body before asking for the next. The pages leave the iterator (they are
// yielded), and every one of them is unmapped by the consumer. Correct: silent.
using System;
using System.Collections.Generic;
using DmaBuf;

namespace Idiomatic.Round2;

internal static class YieldReturnMappedPages
{
    private static IEnumerable<DmaBufPage> MapEach(DmaBuffer b)
    {
        for (long p = 0; p < b.PageCount; p++)
            yield return b.Kmap(p);
    }

    public static int Sum(DmaBuffer buf)
    {
        int sum = 0;
        using (buf.CpuAccess(0, buf.Size, DmaDataDirection.FromDevice))
        {
            foreach (DmaBufPage page in MapEach(buf))
            {
                using (page)
                    sum += Bytes.Sum(page.Span);
            }
        }

        return sum;
    }
}
