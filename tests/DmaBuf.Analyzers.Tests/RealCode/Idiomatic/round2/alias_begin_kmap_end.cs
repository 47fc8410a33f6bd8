// A reference from Get copied into a second local: the access is begun through one local, the page mapped and the
// access ended through the other, and the reference put through the first. They are one buffer. Correct: silent.
using DmaBuf;

namespace Idiomatic.Round2;

internal static class AliasBeginKmapEnd
{
    public static int FirstByte(int fd)
    {
        var imported = DmaBuffer.Get(fd);
        var view = imported;
        imported.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        int value;
        using (var page = view.Kmap(0))
            value = page.Span[0];
        view.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        imported.Put();
        return value;
    }
}
