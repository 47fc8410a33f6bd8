// A kmap that may fail with ENOMEM, handled with an exception filter that returns the errno.
// Bug: the failing Kmap is inside the begun access, so the filtered catch returns with the access still begun
// (DMA0001 at the catch's return). Failures with other errnos propagate (not a path the rules count).
using DmaBuf;

namespace Idiomatic.Round2;

internal static class ExceptionFilterEnomemKmap
{
    public static int Peek(DmaBuffer buf, out byte value)
    {
        value = 0;
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        try
        {
            using var page = buf.Kmap(0);
            value = page.Span[0];
        }
        catch (DmaBufException e) when (e.Errno == Errno.ENOMEM)
        {
            return -Errno.ENOMEM; // expect: DMA0001
        }

        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        return 0;
    }
}
