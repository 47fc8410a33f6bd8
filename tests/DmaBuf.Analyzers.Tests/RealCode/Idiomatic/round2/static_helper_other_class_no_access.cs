// The PageOps helpers in a class of their own, with a caller in another class that exports its own buffer.
// Bug: the caller fills the buffer and then checksums it through the helper without beginning any CPU access for the
// read (DMA0007 at the call to PageOps.Checksum; the write before it was inside a scope that has ended).
using System;
using DmaBuf;

namespace Idiomatic.Round2;

internal static class PageTools
{
    public static int Checksum(DmaBuffer b, long pageNumber)
    {
        using var page = b.Kmap(pageNumber);
        return Bytes.Sum(page.Span);
    }
}

internal sealed class SelfTest
{
    public int FillAndCheck(DmaBufExporter exporter, byte value)
    {
        var buf = DmaBuffer.Export(exporter, DmaBuffer.PageSize);
        using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice))
        using (var page = buf.Kmap(0))
            page.Span.Fill(value);

        int sum = PageTools.Checksum(buf, 0); // expect: DMA0007
        buf.Put();
        return sum;
    }
}
