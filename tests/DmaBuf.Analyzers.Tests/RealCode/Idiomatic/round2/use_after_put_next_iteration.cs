// A loop that sums the sizes of the buffers behind a list of descriptors, one iteration behind.
// Bug: the local still refers to the previous iteration's buffer, whose reference this code has already put, when the
// next iteration reads its Size (DMA0011 at that read).
using DmaBuf;

namespace Idiomatic.Round2;

internal static class UseAfterPutNextIteration
{
    public static long TotalSize(int[] fds)
    {
        long total = 0;
        DmaBuffer? previous = null;
        foreach (int fd in fds)
        {
            if (previous != null)
                total += previous.Size; // expect: DMA0011
            previous = DmaBuffer.Get(fd);
            previous.Put();
        }

        return total;
    }
}
