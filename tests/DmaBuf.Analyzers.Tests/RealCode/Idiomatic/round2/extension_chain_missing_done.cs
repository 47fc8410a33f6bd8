// The same fluent extensions (Reading begins and returns its receiver, PageByte maps, Done ends).
// Bug: the caller chains Reading().PageByte(0) and returns without Done: the access Reading left begun for its caller
// is never ended (DMA0001 at the caller's return). Reading itself is not reported: it leaves the access begun on every
// path and has a caller, so the obligation is the caller's.
using DmaBuf;

namespace Idiomatic.Round2;

internal static class FluentReadExtensions
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

internal static class ExtensionChainMissingDone
{
    public static int FirstByte(DmaBuffer buf)
    {
        int value = buf.Reading().PageByte(0);
        return value; // expect: DMA0001
    }
}
