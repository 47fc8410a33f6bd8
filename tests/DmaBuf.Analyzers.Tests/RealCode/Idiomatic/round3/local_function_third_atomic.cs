// A blend of three pages where the third is read by a local function that maps it atomically.
// Bug: the call is made while the caller holds two atomic mappings, so three are held at once (DMA0004 at the call,
// which names what the local function holds).
using DmaBuf;

namespace Idiomatic.Round3;

internal static class LocalFunctionThirdAtomic
{
    public static int Blend(DmaBuffer buf)
    {
        using var access = buf.CpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        var first = buf.KmapAtomic(0);
        var second = buf.KmapAtomic(1);
        int value = first.Span[0] + second.Span[0] + Third(); // expect: DMA0004
        buf.KunmapAtomic(1, second);
        buf.KunmapAtomic(0, first);
        return value;

        int Third()
        {
            var third = buf.KmapAtomic(2);
            int b = third.Span[0];
            buf.KunmapAtomic(2, third);
            return b;
        }
    }
}
