// A size check on an imported buffer.
// Bug: the validation failure returns false without putting the reference taken by Get (DMA0010 at that return).
using DmaBuf;

namespace Idiomatic.Round3;

internal static class GetValidateEarlyReturn
{
    public static bool IsLargeEnough(int fd, long minimum)
    {
        var buf = DmaBuffer.Get(fd);
        if (buf.Size < minimum)
        {
            // too small for the frame
            return false; // expect: DMA0010
        }

        buf.Put();
        return true;
    }
}
