// A header read that throws when there is no header.
// Bug: the throw leaves the access begun (DMA0001 at the throw).
using System;
using DmaBuf;

namespace Idiomatic.Round3;

internal static class ThrowLeavesAccess
{
    public static int Header(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        int header;
        using (var page = buf.Kmap(0))
            header = page.Span[0];
        if (header == 0)
            throw new InvalidOperationException("no header"); // expect: DMA0001
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        return header;
    }
}
