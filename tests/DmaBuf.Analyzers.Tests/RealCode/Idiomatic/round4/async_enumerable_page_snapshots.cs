// An IAsyncEnumerable producer: each page is copied under its own one-page access and an atomic mapping (both
// released by using statements), and only then is the copy yielded and a pacing delay awaited; the token comes in
// through [EnumeratorCancellation], and the consumer uses WithCancellation and ConfigureAwait. Correct: silent.
using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using DmaBuf;

namespace Idiomatic.Round4;

internal static class PageSnapshots
{
    public static async IAsyncEnumerable<ReadOnlyMemory<byte>> SnapshotAsync(
        DmaBuffer buf, TimeSpan pace, [EnumeratorCancellation] CancellationToken ct = default)
    {
        for (long p = 0; p < buf.PageCount; p++)
        {
            long start = p * DmaBuffer.PageSize;
            byte[] copy;
            using (buf.CpuAccess(start, Math.Min(DmaBuffer.PageSize, buf.Size - start), DmaDataDirection.FromDevice))
            using (var page = buf.KmapAtomic(p))
                copy = page.Span.ToArray();

            yield return copy;
            await Task.Delay(pace, ct).ConfigureAwait(false);
        }
    }

    public static async Task<long> CountNonZeroAsync(DmaBuffer buf, CancellationToken ct)
    {
        long nonZero = 0;
        await foreach (var snapshot in SnapshotAsync(buf, TimeSpan.FromMilliseconds(1)).WithCancellation(ct).ConfigureAwait(false))
        {
            if (snapshot.Span.IndexOfAnyExcept((byte)0) >= 0)
                nonZero++;
        }

        return nonZero;
    }
}
