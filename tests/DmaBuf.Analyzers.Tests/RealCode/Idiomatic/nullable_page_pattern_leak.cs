// A `DmaBufPage?` mapped under a condition and matched with `is { } p`.
// Bug: when the magic matches, the method returns before the page is unmapped (DMA0003 at `return true;`).
// On the other paths the page is null or unmapped under HasValue.
using DmaBuf;

namespace Idiomatic;

internal static class NullablePagePatternLeak
{
    private const byte Magic = 0x7F;

    public static bool HasMagic(DmaBuffer buf, bool check)
    {
        using var access = buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        DmaBufPage? page = check ? buf.Kmap(0) : null;
        if (page is { } p && p.Span[0] == Magic)
            return true; // expect: DMA0003
        if (page.HasValue)
            buf.Kunmap(0, page.Value);
        return false;
    }
}
