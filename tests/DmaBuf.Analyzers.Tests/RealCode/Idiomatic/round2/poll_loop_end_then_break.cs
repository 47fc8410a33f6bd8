// A polling loop over a status byte: the access is begun before the loop, and the iteration that sees the status (or
// gives up) ends it and breaks out; the other iterations map and unmap the page only. Correct: silent.
using DmaBuf;

namespace Idiomatic.Round2;

internal static class PollLoopEndThenBreak
{
    public static int Spin(DmaBuffer buf)
    {
        int spins = 0;
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        while (true)
        {
            byte status;
            using (var page = buf.Kmap(0))
                status = page.Span[0];
            if (status != 0 || ++spins > 100)
            {
                buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
                break;
            }
        }

        return spins;
    }
}
