// `is not { } buf` guards on a holder's optional buffer and on a pattern with a property: the early returns happen
// before anything is begun, the access is a using declaration after the guards. Correct: silent.
using DmaBuf;

namespace Idiomatic.Round2;

internal sealed class PlaneSlot
{
    public DmaBuffer? Buffer { get; init; }

    public long Offset { get; init; }
}

internal static class IsNotPatternGuard
{
    public static int ReadPlane(PlaneSlot? slot)
    {
        if (slot is not { Buffer: { } buf, Offset: var offset })
            return -Errno.EINVAL;
        if (buf is not { Size: > 0 })
            return -Errno.EINVAL;

        using var access = buf.CpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        using var page = buf.Kmap(offset / DmaBuffer.PageSize);
        return page.Span[(int)(offset % DmaBuffer.PageSize)];
    }
}
