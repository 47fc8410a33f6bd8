// A kernel-style retry label in C#: a begin that fails with EBUSY jumps back to `retry:` up to three times, then gives
// up with nothing begun; the access is ended after the read on the one path that began it. Correct: silent.
using DmaBuf;

namespace Idiomatic.Round2;

internal static class BackwardGotoRetryBegin
{
    public static int ReadStatus(DmaBuffer buf)
    {
        int tries = 0;
    retry:
        try
        {
            buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        }
        catch (DmaBufException e) when (e.Errno == Errno.EBUSY)
        {
            if (++tries < 3)
                goto retry;
            return -Errno.EBUSY;
        }

        int value;
        using (var page = buf.Kmap(0))
            value = page.Span[0];
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        return value;
    }
}
