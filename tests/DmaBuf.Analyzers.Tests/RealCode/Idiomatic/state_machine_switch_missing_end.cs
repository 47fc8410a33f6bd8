// A switch statement over an enum mode, each arm doing its own access.
// Bug: the Full arm begins an access over the whole buffer and breaks out without ending it, so the access is
// still begun at the return (DMA0001 at `return sum;`). The Header arm is correct.
using DmaBuf;

namespace Idiomatic;

internal enum ScanMode
{
    Header,
    Full,
}

internal static class StateMachineSwitchMissingEnd
{
    public static int Checksum(DmaBuffer buf, ScanMode mode)
    {
        int sum = 0;
        switch (mode)
        {
            case ScanMode.Header:
                buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
                using (var page = buf.KmapAtomic(0))
                    sum = Bytes.Sum(page.Span);
                buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
                break;
            case ScanMode.Full:
                buf.BeginCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
                for (long p = 0; p < buf.PageCount; p++)
                {
                    using var page = buf.Kmap(p);
                    sum += Bytes.Sum(page.Span);
                }

                break;
        }

        return sum; // expect: DMA0001
    }
}
