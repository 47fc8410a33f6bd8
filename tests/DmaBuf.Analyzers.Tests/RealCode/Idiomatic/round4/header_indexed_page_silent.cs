// A table of contents in page 0 names the page that holds the payload; the access covers the first two pages only,
// on the assumption that the payload follows the header.
// Deliberately silent: the payload's page number is read from the buffer's own bytes, a value the analysis cannot
// compute, so whether it lies inside pages 0..1 is not judged (a page 5 would be outside the begun span).
using System.Buffers.Binary;
using DmaBuf;

namespace Idiomatic.Round4;

internal static class TocReader
{
    public static int PayloadLength(DmaBuffer buf)
    {
        using var access = buf.CpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        long payloadPage;
        using (var toc = buf.Kmap(0))
            payloadPage = BinaryPrimitives.ReadInt64LittleEndian(toc.Span);

        using var payload = buf.Kmap(payloadPage);
        return BinaryPrimitives.ReadInt32LittleEndian(payload.Span);
    }
}
