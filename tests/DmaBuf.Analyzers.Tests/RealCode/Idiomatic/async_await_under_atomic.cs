// An async publisher that writes the header of the first page to a stream.
// Bug: the write is awaited while the atomic page is still mapped (the `using var` releases it only at the end of
// the block): DMA0005 at the await.
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using DmaBuf;

namespace Idiomatic;

internal static class AsyncAwaitUnderAtomic
{
    public static async Task PublishHeaderAsync(DmaBuffer buf, Stream sink, CancellationToken ct)
    {
        using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice))
        {
            using var page = buf.KmapAtomic(0);
            await sink.WriteAsync(page.Span[..64].ToArray(), ct).ConfigureAwait(false); // expect: DMA0005
        }
    }
}
