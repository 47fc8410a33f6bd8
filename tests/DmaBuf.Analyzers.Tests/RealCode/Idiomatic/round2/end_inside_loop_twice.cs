// A two-pass check whose EndCpuAccess slipped into the loop body.
// Bug: the first pass ends the access, so the second pass maps the page after the end (DMA0007 at the Kmap) and ends
// the access a second time (DMA0002 at the EndCpuAccess).
using DmaBuf;

namespace Idiomatic.Round2;

internal static class EndInsideLoopTwice
{
    public static int TwoPasses(DmaBuffer buf)
    {
        int sum = 0;
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        for (int pass = 0; pass < 2; pass++)
        {
            using (var page = buf.Kmap(0)) // expect: DMA0007
                sum += page.Span[pass];
            buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice); // expect: DMA0002
        }

        return sum;
    }
}
