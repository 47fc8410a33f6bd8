// `await using (lease.ConfigureAwait(false))` of an owner whose DisposeAsync puts the reference it took with Get;
// the access is a using declaration inside the block, and the block awaits a copy to a stream with no mapping held.
// Correct: silent.
using System;
using System.IO;
using System.Threading.Tasks;
using DmaBuf;

namespace Idiomatic.Round2;

internal sealed class ImportLease : IAsyncDisposable
{
    private ImportLease(DmaBuffer buffer) => Buffer = buffer;

    public DmaBuffer Buffer { get; }

    public static ImportLease Open(int fd) => new(DmaBuffer.Get(fd));

    public ValueTask DisposeAsync()
    {
        Buffer.Put();
        return ValueTask.CompletedTask;
    }
}

internal static class AwaitUsingConfigureAwait
{
    public static async Task CopyFirstPageAsync(int fd, Stream sink)
    {
        var lease = ImportLease.Open(fd);
        await using (lease.ConfigureAwait(false))
        {
            DmaBuffer buf = lease.Buffer;
            byte[] copy;
            using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice))
            using (var page = buf.Kmap(0))
                copy = page.Span.ToArray();

            await sink.WriteAsync(copy).ConfigureAwait(false);
        }
    }
}
