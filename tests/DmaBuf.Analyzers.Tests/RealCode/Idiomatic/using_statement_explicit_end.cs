// A using statement over a CpuAccess scope, with an explicit EndCpuAccess "to flush early" inside it.
// Bug: the explicit end matches the access and ends it; the scope's Dispose then ends it a second time
// (DMA0002 at the `using`).
using DmaBuf;

namespace Idiomatic;

internal static class UsingStatementExplicitEnd
{
    public static void Clear(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice)) // expect: DMA0002
        {
            using (var page = buf.Kmap(0))
                page.Span.Clear();
            buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        }
    }
}
