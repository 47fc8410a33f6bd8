// Two buffers, each with its own access, nested in try/finally: the inner finally ends the destination's access, the
// outer one the source's; the copy goes page by page with one atomic mapping on each side. Correct: silent.
using System;
using DmaBuf;

namespace Idiomatic.Round2;

internal static class NestedFinallyTwoBuffers
{
    public static void Copy(DmaBuffer src, DmaBuffer dst)
    {
        long length = Math.Min(src.Size, dst.Size);
        src.BeginCpuAccess(0, length, DmaDataDirection.FromDevice);
        try
        {
            dst.BeginCpuAccess(0, length, DmaDataDirection.ToDevice);
            try
            {
                for (long p = 0; p * DmaBuffer.PageSize < length; p++)
                {
                    var from = src.KmapAtomic(p);
                    var to = dst.KmapAtomic(p);
                    from.Span.CopyTo(to.Span);
                    dst.KunmapAtomic(p, to);
                    src.KunmapAtomic(p, from);
                }
            }
            finally
            {
                dst.EndCpuAccess(0, length, DmaDataDirection.ToDevice);
            }
        }
        finally
        {
            src.EndCpuAccess(0, length, DmaDataDirection.FromDevice);
        }
    }
}
