// A diagnostic dump that formats a mapped page and its first byte into a string with interpolation.
// Bug: when the page is empty the method returns the message without unmapping the page (DMA0003 at that return).
// Formatting the page is not handing it on: it is still this method's to unmap.
using System;
using DmaBuf;

namespace Idiomatic.Round2;

internal static class InterpolatedPageLeak
{
    public static string Describe(DmaBuffer buf)
    {
        using var access = buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        var page = buf.Kmap(0);
        string text = $"{page}: first byte {page.Span[0]:x2}";
        if (page.Span[0] == 0)
            return text + " (empty)"; // expect: DMA0003
        buf.Kunmap(0, page);
        return text;
    }
}
