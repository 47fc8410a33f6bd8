// A generic helper `T WithPage<T>(DmaBuffer b, long p, PageFunc<T> f)` that maps page p of its parameter, hands the
// span to the delegate and unmaps; it begins nothing itself. Its callers begin the access first (one with a using
// statement, one with a using declaration of a wider range). Correct: silent.
using System;
using DmaBuf;

namespace Idiomatic.Round2;

internal delegate T PageFunc<T>(Span<byte> bytes);

internal static class PageHelpers
{
    public static T WithPage<T>(DmaBuffer b, long p, PageFunc<T> f)
    {
        using var page = b.Kmap(p);
        return f(page.Span);
    }
}

internal static class GenericWithPageWithAccess
{
    public static byte FirstByte(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice))
            return PageHelpers.WithPage(buf, 0, span => span[0]);
    }

    public static int SumOfSecondPage(DmaBuffer buf)
    {
        using var access = buf.CpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        return PageHelpers.WithPage(buf, 1, span => Bytes.Sum(span));
    }
}
