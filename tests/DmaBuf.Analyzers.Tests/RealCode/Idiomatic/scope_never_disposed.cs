// A CpuAccess scope taken for a read and never disposed: the access stays begun when the method returns.
using System;
using DmaBuf;

namespace Idiomatic;

internal static class ScopeNeverDisposed
{
    public static int FirstByte(DmaBuffer buffer)
    {
        var scope = buffer.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        using DmaBufPage page = buffer.Kmap(0);
        return page.Span[0]; // expect: DMA0001
    }
}
