// Nested using statements: a scope and two atomic pages; the page is copied and both pages are unmapped before the
// scope ends the access. Correct: silent.
using DmaBuf;

namespace Idiomatic;

internal static class UsingStatementAtomicCopy
{
    public static void DuplicateFirstPage(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional))
        using (var source = buf.KmapAtomic(0))
        using (var target = buf.KmapAtomic(1))
            source.Span.CopyTo(target.Span);
    }
}
