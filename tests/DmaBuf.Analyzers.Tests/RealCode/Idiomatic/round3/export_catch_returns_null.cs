// A factory that exports a page and fills it, returning null when the fill fails.
// Bug: the catch returns null without putting the exported buffer (DMA0010 at that return).
using DmaBuf;

namespace Idiomatic.Round3;

internal static class ExportCatchReturnsNull
{
    public static int? ExportFilled(DmaBufExporter exporter, byte value)
    {
        var buf = DmaBuffer.Export(exporter, DmaBuffer.PageSize);
        try
        {
            using var access = buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
            using var page = buf.Kmap(0);
            page.Span.Fill(value);
        }
        catch (DmaBufException)
        {
            return null; // expect: DMA0010
        }

        int pages = (int)buf.PageCount;
        buf.Put();
        return pages;
    }
}
