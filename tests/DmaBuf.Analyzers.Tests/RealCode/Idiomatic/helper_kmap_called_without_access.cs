// A helper that maps a page of its parameter; SumAll calls it inside an access over the whole buffer, SumFirst
// calls it on a buffer it imported itself.
// Bug: SumFirst never begins CPU access before the helper maps page 0 (DMA0007 at the call).
using DmaBuf;

namespace Idiomatic;

internal static class HelperKmapCalledWithoutAccess
{
    private static int SumPage(DmaBuffer buf, long page)
    {
        using var mapped = buf.Kmap(page);
        return Bytes.Sum(mapped.Span);
    }

    public static int SumAll(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, buf.Size, DmaDataDirection.FromDevice))
        {
            int sum = 0;
            for (long p = 0; p < buf.PageCount; p++)
                sum += SumPage(buf, p);
            return sum;
        }
    }

    public static int SumFirst(int fd)
    {
        var buf = DmaBuffer.Get(fd);
        try
        {
            return SumPage(buf, 0); // expect: DMA0007
        }
        finally
        {
            buf.Put();
        }
    }
}
