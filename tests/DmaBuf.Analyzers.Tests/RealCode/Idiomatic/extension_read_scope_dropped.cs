// The same Read() extension, but the caller keeps the scope in a local it never disposes.
// Bug: the access the extension began (and handed to the caller) is still begun when the method returns
// (DMA0001 at the return).
using System;
using DmaBuf;

namespace Idiomatic;

internal static class DroppedReadScopeExtensions
{
    public static CpuAccessScope Read(this DmaBuffer b) => b.CpuAccess(0, b.Size, DmaDataDirection.FromDevice);
}

internal static class ExtensionReadScopeDropped
{
    public static int CountZeroPages(DmaBuffer buf)
    {
        var access = buf.Read();
        int zeros = 0;
        for (long p = 0; p < buf.PageCount; p++)
        {
            using var page = buf.Kmap(p);
            if (page.Span.IndexOfAnyExcept((byte)0) < 0)
                zeros++;
        }

        return zeros; // expect: DMA0001
    }
}
