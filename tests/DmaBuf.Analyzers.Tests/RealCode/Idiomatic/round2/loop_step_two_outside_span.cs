// Every other page checksummed with a loop that steps by two, against an access of the first six pages.
// Bug: the loop runs p = 0, 2, 4, 6, and page 6 lies outside the begun span (pages 0-5) (DMA0006 at the Kmap).
using DmaBuf;

namespace Idiomatic.Round2;

internal static class LoopStepTwoOutsideSpan
{
    public static int EvenPages(DmaBuffer buf)
    {
        int sum = 0;
        buf.BeginCpuAccess(0, 6 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        for (long p = 0; p < 8; p += 2)
        {
            using var page = buf.Kmap(p); // expect: DMA0006
            sum += Bytes.Sum(page.Span);
        }

        buf.EndCpuAccess(0, 6 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        return sum;
    }
}
