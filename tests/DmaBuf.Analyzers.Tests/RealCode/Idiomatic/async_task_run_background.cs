// Task.Run with a lambda that calls a synchronous helper doing its own scoped access; CancellationToken checks
// inside the loop (an exception from a call is not a path). Correct: silent.
using System;
using System.Threading;
using System.Threading.Tasks;
using DmaBuf;

namespace Idiomatic;

internal static class AsyncTaskRunBackground
{
    public static async Task ClearInBackgroundAsync(DmaBuffer buf, CancellationToken ct)
    {
        await Task.Run(() => Clear(buf, ct), ct).ConfigureAwait(false);
        Console.WriteLine($"cleared {buf}");
    }

    private static void Clear(DmaBuffer buf, CancellationToken ct)
    {
        using (buf.CpuAccess(0, buf.Size, DmaDataDirection.ToDevice))
        {
            for (long p = 0; p < buf.PageCount; p++)
            {
                ct.ThrowIfCancellationRequested();
                using var page = buf.Kmap(p);
                page.Span.Clear();
            }
        }
    }
}
