// A goto-free retry loop: BeginCpuAccess is retried while it fails with EBUSY (an exception filter with an attempt
// limit), the loop is left by `break` only after a begin that succeeded, and the access is ended in a finally.
// A begin that fails otherwise, or for the fourth time, propagates with nothing begun. Correct: silent.
using System.Threading;
using DmaBuf;

namespace Idiomatic.Round2;

internal static class RetryLoopBusyBegin
{
    public static int ReadStatus(DmaBuffer buf)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
                break;
            }
            catch (DmaBufException e) when (e.Errno == Errno.EBUSY && attempt < 3)
            {
                Thread.Sleep(1 << attempt);
            }
        }

        try
        {
            using var page = buf.Kmap(0);
            return page.Span[0];
        }
        finally
        {
            buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        }
    }
}
