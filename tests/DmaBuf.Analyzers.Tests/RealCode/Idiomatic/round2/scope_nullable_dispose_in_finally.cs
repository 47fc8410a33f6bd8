// A nullable scope assigned inside a try (only when there is something to read) and disposed with `scope?.Dispose()`
// in the finally; the early return leaves with the scope still null. Correct: silent.
using DmaBuf;

namespace Idiomatic.Round2;

internal static class ScopeNullableDisposeInFinally
{
    public static int Read(DmaBuffer buf, bool wanted)
    {
        CpuAccessScope? scope = null;
        try
        {
            if (!wanted)
                return 0;
            scope = buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
            using var page = buf.Kmap(0);
            return page.Span[0];
        }
        finally
        {
            scope?.Dispose();
        }
    }
}
