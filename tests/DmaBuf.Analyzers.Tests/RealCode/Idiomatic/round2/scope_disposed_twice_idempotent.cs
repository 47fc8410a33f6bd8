// A scope disposed explicitly inside the using statement that also disposes it: CpuAccessScope.Dispose ends the access
// once ("later calls do nothing"), so the using's implicit Dispose ends nothing a second time. Correct: silent.
using DmaBuf;

namespace Idiomatic.Round2;

internal static class ScopeDisposedTwiceIdempotent
{
    public static int ReadAndRelease(DmaBuffer buf)
    {
        using (var scope = buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice))
        {
            int value;
            using (var page = buf.Kmap(0))
                value = page.Span[0];
            scope.Dispose(); // release the access as early as possible
            return value;
        }
    }
}
