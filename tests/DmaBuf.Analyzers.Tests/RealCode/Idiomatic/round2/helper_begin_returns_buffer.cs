// A static helper that begins a read access on the buffer it is given and returns that same buffer, so that the call
// can be used as an expression (`var same = BeginRead(buf)`).
// Bug: the caller reads the size through the returned reference and returns without ending the access the helper left
// begun for it (DMA0001 at the caller's return). Returning its parameter does not make the helper's access anybody
// else's: the helper leaves it begun on every path and has a caller, so the caller owns it.
using DmaBuf;

namespace Idiomatic.Round2;

internal static class HelperBeginReturnsBuffer
{
    private static DmaBuffer BeginRead(DmaBuffer b)
    {
        b.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        return b;
    }

    public static int FirstByte(DmaBuffer buf)
    {
        var same = BeginRead(buf);
        using var page = same.Kmap(0);
        return page.Span[0]; // expect: DMA0001
    }
}
