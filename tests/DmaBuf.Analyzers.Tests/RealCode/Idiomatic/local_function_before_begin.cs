// A factory that fills a new buffer page by page through a local function that maps its parameter.
// Bug: the first call maps page 0 before any CPU access is begun on the buffer this method exported (DMA0007 at
// that call); the second call is inside the access begun for page 1. The buffer is returned (handed on).
using DmaBuf;

namespace Idiomatic;

internal static class LocalFunctionBeforeBegin
{
    public static DmaBuffer CreateFilled(byte value)
    {
        var buf = DmaBuffer.Export(new SystemHeapExporter(), 2 * DmaBuffer.PageSize);
        FillPage(buf, 0, value); // expect: DMA0007
        using (buf.CpuAccess(DmaBuffer.PageSize, DmaBuffer.PageSize, DmaDataDirection.ToDevice))
            FillPage(buf, 1, value);
        return buf;

        static void FillPage(DmaBuffer b, long page, byte v)
        {
            using var mapped = b.Kmap(page);
            mapped.Span.Fill(v);
        }
    }
}
