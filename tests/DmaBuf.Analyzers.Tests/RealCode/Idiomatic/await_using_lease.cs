// `await using` of an owner that holds a reference from Get and puts it in DisposeAsync; the access is a using
// statement inside. The lease's awaited disposal happens after the page and the scope are gone. Correct: silent.
using System;
using System.Threading.Tasks;
using DmaBuf;

namespace Idiomatic;

internal sealed class BufferLease : IAsyncDisposable
{
    private BufferLease(DmaBuffer buffer) => Buffer = buffer;

    public DmaBuffer Buffer { get; }

    public static BufferLease Open(int fd) => new(DmaBuffer.Get(fd));

    public async ValueTask DisposeAsync()
    {
        await Task.Yield();
        Buffer.Put();
    }
}

internal static class AwaitUsingLease
{
    public static async Task<int> SumFirstPageAsync(int fd)
    {
        await using var lease = BufferLease.Open(fd);
        DmaBuffer buf = lease.Buffer;
        using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice))
        using (var page = buf.Kmap(0))
            return Bytes.Sum(page.Span);
    }
}
