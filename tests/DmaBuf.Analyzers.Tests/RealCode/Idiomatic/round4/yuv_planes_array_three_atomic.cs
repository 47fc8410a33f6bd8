// A YUV blend that maps the Y, U and V planes (one page each) atomically into an array in a loop, then mixes a byte of
// each; the finally disposes every element of the array (a default page's Dispose does nothing).
// Bug: the loop keeps its mappings across iterations, so on the third iteration a third KmapAtomic is made while two
// atomic mappings are held (DMA0004 at the kmap).
using DmaBuf;

namespace Idiomatic.Round4;

internal static class YuvBlend
{
    private const int Planes = 3;

    public static byte Mix(DmaBuffer buf, int offset)
    {
        var pages = new DmaBufPage[Planes];
        using var access = buf.CpuAccess(0, Planes * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        try
        {
            for (int i = 0; i < Planes; i++)
                pages[i] = buf.KmapAtomic(i); // expect: DMA0004

            return (byte)((pages[0].Span[offset] * 2 + pages[1].Span[offset] + pages[2].Span[offset]) / 4);
        }
        finally
        {
            foreach (var page in pages)
                page.Dispose();
        }
    }
}
