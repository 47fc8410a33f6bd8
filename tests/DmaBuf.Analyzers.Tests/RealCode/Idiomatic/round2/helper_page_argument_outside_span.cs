// A helper `Touch(b, page)` that maps the page number it is given; the caller begins an access of two pages and calls
// it for page 1 and for page 3.
// Bug: page 3 is outside the begun span (pages 0-1), so the call maps a page the access does not cover (DMA0006 at that
// call; the helper's Kmap is the related location). The call for page 1 is inside.
using DmaBuf;

namespace Idiomatic.Round2;

internal static class HelperPageArgumentOutsideSpan
{
    private static byte Touch(DmaBuffer b, long page)
    {
        using var mapped = b.Kmap(page);
        return mapped.Span[0];
    }

    public static int Probe(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        int low = Touch(buf, 1);
        int high = Touch(buf, 3); // expect: DMA0006
        buf.EndCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        return low + high;
    }
}
