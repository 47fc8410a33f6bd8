// An async fill that yields between pages and stops when cancelled.
// Bug: the cancellation check returns without ending the access begun over the whole buffer (DMA0001 at that
// return). The pages mapped in the loop are all inside 0..buf.Size.
using System.Threading;
using System.Threading.Tasks;
using DmaBuf;

namespace Idiomatic;

internal static class AsyncCancelReturnsEarly
{
    public static async Task FillAsync(DmaBuffer buf, byte value, CancellationToken ct)
    {
        buf.BeginCpuAccess(0, buf.Size, DmaDataDirection.ToDevice);
        for (long p = 0; p < buf.PageCount; p++)
        {
            if (ct.IsCancellationRequested)
                return; // expect: DMA0001
            using (var page = buf.Kmap(p))
                page.Span.Fill(value);
            await Task.Yield();
        }

        buf.EndCpuAccess(0, buf.Size, DmaDataDirection.ToDevice);
    }
}
