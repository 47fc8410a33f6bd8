// A checksum over all pages but the last, one kmap per page.
// Bug: the loop unmaps page i + 1 with the mapping of page i (DMA0003 at the Kunmap).
using DmaBuf;

namespace Idiomatic.Round3;

internal static class LoopUnmapsNextPage
{
    public static int Checksum(DmaBuffer buf)
    {
        int sum = 0;
        using (buf.CpuAccess(0, buf.Size, DmaDataDirection.FromDevice))
        {
            for (long i = 0; i + 1 < buf.PageCount; i++)
            {
                var page = buf.Kmap(i);
                sum += Bytes.Sum(page.Span);
                buf.Kunmap(i + 1, page); // expect: DMA0003
            }
        }

        return sum;
    }
}
