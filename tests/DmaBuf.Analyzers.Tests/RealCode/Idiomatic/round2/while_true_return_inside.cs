// A `while (true)` wait loop whose only way out is the `return` inside it, after ending the access; the loop's end is
// unreachable (the compiler needs no return after it). Correct: silent.
using System.Threading;
using DmaBuf;

namespace Idiomatic.Round2;

internal static class WhileTrueReturnInside
{
    public static int WaitNonZero(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        while (true)
        {
            byte status;
            using (var page = buf.Kmap(0))
                status = page.Span[0];
            if (status != 0)
            {
                buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
                return status;
            }

            Thread.Sleep(1);
        }
    }
}
