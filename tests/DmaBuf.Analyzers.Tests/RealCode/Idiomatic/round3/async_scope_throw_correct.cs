// An async read under a scope and a mapping held by using declarations, with throws before and inside them.
// Correct: the using declarations end the access and unmap the page on every path, the throw included. Silent.
using System;
using System.Threading.Tasks;
using DmaBuf;

namespace Idiomatic.Round3;

internal static class AsyncScopeThrowCorrect
{
    public static async Task<int> ReadAsync(DmaBuffer buf, int count)
    {
        if (count <= 0)
            throw new ArgumentOutOfRangeException(nameof(count));
        await Task.Yield();
        using var access = buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        using var page = buf.Kmap(0);
        if (page.Span[0] == 0xFF)
            throw new InvalidOperationException("poisoned");
        return page.Span[0] + count;
    }
}
