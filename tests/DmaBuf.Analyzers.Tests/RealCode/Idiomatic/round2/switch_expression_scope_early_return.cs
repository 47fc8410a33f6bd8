// The same switch expression over the mode, but the buffer's size is checked after the scope was taken and before
// the using statement that would dispose it.
// Bug: on the empty-buffer path the method returns with the access begun by whichever arm ran (DMA0001 at that
// return). The path through the using statement is fine.
using System;
using DmaBuf;

namespace Idiomatic.Round2;

internal enum CopyMode
{
    Upload,
    Download,
}

internal static class SwitchExpressionScopeEarlyReturn
{
    public static int Touch(DmaBuffer buf, CopyMode mode, int minimumPages)
    {
        var scope = mode switch
        {
            CopyMode.Upload => buf.CpuAccess(0, buf.Size, DmaDataDirection.ToDevice),
            _ => buf.CpuAccess(0, buf.Size, DmaDataDirection.FromDevice),
        };

        if (buf.PageCount < minimumPages)
            return -Errno.EINVAL; // expect: DMA0001

        using (scope)
        {
            using var page = buf.Kmap(0);
            return page.Span[0];
        }
    }
}
