// `using var access = cond ? buf.CpuAccess(...) : null;` then `if (access is null) return;`: past the test the
// access is begun, so the kmaps are inside it; a null scope needs no disposal. Correct: silent.
using DmaBuf;

namespace Idiomatic;

internal static class ConditionalScopeNull
{
    public static void Refresh(DmaBuffer buf, bool cpuCopy)
    {
        using var access = cpuCopy ? buf.CpuAccess(0, buf.Size, DmaDataDirection.ToDevice) : null;
        if (access is null)
            return;
        for (long p = 0; p < buf.PageCount; p++)
        {
            using var page = buf.Kmap(p);
            page.Span.Clear();
        }
    }
}
