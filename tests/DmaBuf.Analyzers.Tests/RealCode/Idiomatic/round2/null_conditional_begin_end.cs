// An optional overlay buffer handled with `?.`: the access is begun with `overlay?.BeginCpuAccess(...)` and ended with
// `overlay?.EndCpuAccess(...)` on the same unchanged local, and the overlay's page is mapped only under a null test of
// it; `?? 0` supplies a size when there is no overlay. Correct: silent.
using DmaBuf;

namespace Idiomatic.Round2;

internal static class NullConditionalBeginEnd
{
    public static int Blend(DmaBuffer frame, DmaBuffer? overlay)
    {
        long overlaySize = overlay?.Size ?? 0;
        int result;

        overlay?.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        using (frame.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.Bidirectional))
        using (var target = frame.Kmap(0))
        {
            result = target.Span[0];
            if (overlay != null && overlaySize > 0)
            {
                using var source = overlay.Kmap(0);
                result += source.Span[0];
            }
        }

        overlay?.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        return result;
    }
}
