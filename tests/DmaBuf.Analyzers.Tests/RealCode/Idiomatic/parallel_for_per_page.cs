// Parallel.For over the pages inside an access over the whole buffer: each iteration maps and unmaps one atomic
// page on its own thread; the calling thread holds no atomic mapping while it waits. Correct: silent.
using System.Threading.Tasks;
using DmaBuf;

namespace Idiomatic;

internal static class ParallelForPerPage
{
    public static void FillAll(DmaBuffer buf, byte value)
    {
        using (buf.CpuAccess(0, buf.Size, DmaDataDirection.ToDevice))
        {
            Parallel.For(0L, buf.PageCount, p =>
            {
                using var page = buf.KmapAtomic(p);
                page.Span.Fill(value);
            });
        }
    }
}
