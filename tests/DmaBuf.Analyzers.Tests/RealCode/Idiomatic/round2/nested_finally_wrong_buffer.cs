// The nested try/finally of two buffers begun with the same range and direction, with a slip in the inner finally:
// it ends `a` where `b` was meant.
// Bug: the inner finally ends a's access, so the outer finally ends it a second time (DMA0002 at the outer end), and
// b's access is never ended (DMA0001 at the return).
using System;
using DmaBuf;

namespace Idiomatic.Round2;

internal static class NestedFinallyWrongBuffer
{
    public static int Compare(DmaBuffer a, DmaBuffer b)
    {
        int diff = 0;
        a.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        try
        {
            b.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
            try
            {
                using var pa = a.Kmap(0);
                using var pb = b.Kmap(0);
                diff = pa.Span.SequenceCompareTo(pb.Span);
            }
            finally
            {
                a.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
            }
        }
        finally
        {
            a.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice); // expect: DMA0002
        }

        return diff; // expect: DMA0001
    }
}
