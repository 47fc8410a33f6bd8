// The optional overlay with `?.` again, with a validity check between the begin and the end.
// Bug: when the frame is empty the method returns after `overlay?.BeginCpuAccess(...)` and before the matching
// `overlay?.EndCpuAccess(...)`: on the path with an overlay its access is still begun (DMA0001 at that return).
using DmaBuf;

namespace Idiomatic.Round2;

internal static class NullConditionalEarlyReturn
{
    public static int Blend(DmaBuffer frame, DmaBuffer? overlay)
    {
        int result = 0;

        overlay?.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        if (frame.Size == 0)
            return -Errno.EINVAL; // expect: DMA0001

        if (overlay is not null)
        {
            using var source = overlay.Kmap(0);
            result = source.Span[0];
        }

        overlay?.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        return result;
    }
}
