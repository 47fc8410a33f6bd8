// Using declarations: the access and two non-atomic pages are declared with `using var` and released in reverse
// order when the method returns. Correct: silent.
using DmaBuf;

namespace Idiomatic;

internal static class UsingDeclarationRead
{
    public static int SumFirstTwoPages(DmaBuffer buf)
    {
        using var access = buf.CpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        using var first = buf.Kmap(0);
        using var second = buf.Kmap(1);
        return Bytes.Sum(first.Span) + Bytes.Sum(second.Span);
    }
}
