// An async loader: awaits a stream read (ConfigureAwait(false), a CancellationToken) while CPU access is begun but
// no atomic page is held; each chunk goes into one atomic page that is unmapped before the next await.
// Correct: silent.
using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using DmaBuf;

namespace Idiomatic;

internal static class AsyncAwaitOutsideAtomic
{
    public static async Task<int> LoadAsync(DmaBuffer buf, Stream source, CancellationToken ct)
    {
        var chunk = new byte[DmaBuffer.PageSize];
        int pages = 0;
        using (buf.CpuAccess(0, buf.Size, DmaDataDirection.ToDevice))
        {
            for (long p = 0; p < buf.PageCount; p++)
            {
                int read = await source.ReadAsync(chunk, ct).ConfigureAwait(false);
                if (read == 0)
                    break;
                using (var page = buf.KmapAtomic(p))
                    chunk.AsSpan(0, read).CopyTo(page.Span);
                pages++;
            }
        }

        return pages;
    }
}
