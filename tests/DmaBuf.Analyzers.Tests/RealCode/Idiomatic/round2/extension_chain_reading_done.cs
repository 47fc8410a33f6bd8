// Extension methods used as a chain: `buf.Reading()` begins a read access on the whole buffer and returns the
// buffer, `.PageByte(n)` maps page n of its receiver, and `buf.Done()` ends the read access. Reading leaves the access
// begun on every path, so its caller owns it, and the caller ends it with Done. Correct: silent.
using DmaBuf;

namespace Idiomatic.Round2;

internal static class ReadingExtensions
{
    public static DmaBuffer Reading(this DmaBuffer b)
    {
        b.BeginCpuAccess(0, b.Size, DmaDataDirection.FromDevice);
        return b;
    }

    public static byte PageByte(this DmaBuffer b, long page)
    {
        using var mapped = b.Kmap(page);
        return mapped.Span[0];
    }

    public static void Done(this DmaBuffer b) => b.EndCpuAccess(0, b.Size, DmaDataDirection.FromDevice);
}

internal static class ExtensionChainReadingDone
{
    public static int FirstByte(DmaBuffer buf)
    {
        int value = buf.Reading().PageByte(0);
        buf.Done();
        return value;
    }
}
