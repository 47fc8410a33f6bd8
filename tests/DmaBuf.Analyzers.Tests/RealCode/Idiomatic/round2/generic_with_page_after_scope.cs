// The generic WithPage<T> helper again, called by a method that exports its own buffer.
// Bug: the second call comes after the using statement has ended the access, so the helper maps a page of a buffer
// with no CPU access begun (DMA0007 at that call; the helper's Kmap is the related location). The first call is
// inside the access.
using System;
using DmaBuf;

namespace Idiomatic.Round2;

internal delegate T SpanReader<T>(Span<byte> bytes);

internal static class GenericPage
{
    public static T WithPage<T>(DmaBuffer b, long p, SpanReader<T> f)
    {
        using var page = b.Kmap(p);
        return f(page.Span);
    }
}

internal static class GenericWithPageAfterScope
{
    public static int HeaderAndTrailer(DmaBufExporter exporter)
    {
        var buf = DmaBuffer.Export(exporter, 2 * DmaBuffer.PageSize);
        try
        {
            int header;
            using (buf.CpuAccess(0, buf.Size, DmaDataDirection.FromDevice))
                header = GenericPage.WithPage(buf, 0, span => (int)span[0]);

            int trailer = GenericPage.WithPage(buf, 1, span => (int)span[^1]); // expect: DMA0007
            return header + trailer;
        }
        finally
        {
            buf.Put();
        }
    }
}
