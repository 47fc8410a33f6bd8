// The direction of the access is chosen with if/else, one begin in each branch, and a later check returns early.
// Bug: the early return leaves the access begun (DMA0001 at that return, once: on any one path exactly one of the two
// begins ran, so one access of 'buf' is open there). The normal path ends the access it began.
using DmaBuf;

namespace Idiomatic.Round2;

internal static class IfElseTwoBeginsEarlyReturn
{
    public static int Touch(DmaBuffer buf, bool upload, bool skip)
    {
        if (upload)
            buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        else
            buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);

        if (skip)
            return 0; // expect: DMA0001

        using (var page = buf.Kmap(0))
            page.Span[0] ^= 1;

        if (upload)
            buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        else
            buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        return 1;
    }
}
