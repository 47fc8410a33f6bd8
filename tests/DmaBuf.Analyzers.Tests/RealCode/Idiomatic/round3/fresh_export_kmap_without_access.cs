// A factory that exports a page and fills it before handing it out.
// Bug: the freshly exported buffer is mapped with no CPU access begun (DMA0007 at the kmap); no caller can have
// begun it, and the buffer is returned (handed to the caller, so no DMA0010).
using DmaBuf;

namespace Idiomatic.Round3;

internal static class FreshExportKmapWithoutAccess
{
    public static DmaBuffer Create(DmaBufExporter exporter, byte fill)
    {
        var buf = DmaBuffer.Export(exporter, DmaBuffer.PageSize);
        using (var page = buf.Kmap(0)) // expect: DMA0007
        {
            page.Span.Fill(fill);
        }

        return buf;
    }
}
