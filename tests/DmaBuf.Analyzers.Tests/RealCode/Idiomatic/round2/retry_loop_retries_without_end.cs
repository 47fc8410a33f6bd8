// A retry loop over a validation: begin, map, check the header, and on a bad header try again after a pause.
// Bug: the retry path goes round the loop without ending the access it began, so the next iteration begins it again
// and the earlier one is never ended. After the last failed attempt the method returns with the accesses still
// begun (DMA0001 at `return -Errno.EBUSY;`), and a success after one or more retries ends only the access of its
// own iteration, so the earlier ones are still begun at `return 0;` (DMA0001 there too: begins are counted, as the
// runtime counts them; the path that succeeds at once is clean).
using System.Threading;
using DmaBuf;

namespace Idiomatic.Round2;

internal static class RetryLoopRetriesWithoutEnd
{
    private const byte Ready = 1;

    public static int WaitReady(DmaBuffer buf, int attempts)
    {
        for (int i = 0; i < attempts; i++)
        {
            buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
            byte status;
            using (var page = buf.Kmap(0))
                status = page.Span[0];

            if (status == Ready)
            {
                buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
                return 0; // expect: DMA0001
            }

            Thread.Sleep(10);
        }

        return -Errno.EBUSY; // expect: DMA0001
    }
}
