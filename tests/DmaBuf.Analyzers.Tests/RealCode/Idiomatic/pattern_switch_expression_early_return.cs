// A switch expression with relational patterns classifies the first bytes of a page.
// Bug: for an unknown kind the method returns before the Kunmap: page 0 stays mapped on that path (DMA0003 at the
// return). The access itself is a using declaration and is ended on every path.
using DmaBuf;

namespace Idiomatic;

internal enum ImageKind
{
    Unknown,
    Png,
    Jpeg,
    Text,
}

internal static class PatternSwitchExpressionEarlyReturn
{
    public static ImageKind Sniff(DmaBuffer buf)
    {
        using var access = buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        var page = buf.Kmap(0);
        var kind = page.Span[0] switch
        {
            0x89 => ImageKind.Png,
            0xFF => ImageKind.Jpeg,
            >= 0x20 and < 0x7F => ImageKind.Text,
            _ => ImageKind.Unknown,
        };
        if (kind == ImageKind.Unknown)
            return kind; // expect: DMA0003
        buf.Kunmap(0, page);
        return kind;
    }
}
