// A begin that may fail with ENOMEM, caught with an exception filter: the failed begin began nothing, so the
// catch returns the errno with nothing to end; otherwise the access is ended in a finally. Correct: silent.
using DmaBuf;

namespace Idiomatic;

internal static class TryCatchWhenFailedBegin
{
    public static int Checksum(DmaBuffer buf, out int sum)
    {
        sum = 0;
        try
        {
            buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        }
        catch (DmaBufException e) when (e.Errno == Errno.ENOMEM)
        {
            return -Errno.ENOMEM;
        }

        try
        {
            using var page = buf.Kmap(0);
            sum = Bytes.Sum(page.Span);
            return 0;
        }
        finally
        {
            buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        }
    }
}
