// A helper that begins an access and maps page 0, returning both as a tuple; the caller deconstructs the tuple into
// two using declarations, so the page is unmapped and then the access ended when the caller's block ends.
// Correct: silent.
using System;
using DmaBuf;

namespace Idiomatic.Round2;

internal static class TupleReturnsScopeAndPage
{
    private static (CpuAccessScope Scope, DmaBufPage Page) OpenFirstPage(DmaBuffer b)
    {
        var scope = b.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        return (scope, b.Kmap(0));
    }

    public static int FirstByte(DmaBuffer buf)
    {
        var (scope, page) = OpenFirstPage(buf);
        using (scope)
        using (page)
            return page.Span[0];
    }
}
