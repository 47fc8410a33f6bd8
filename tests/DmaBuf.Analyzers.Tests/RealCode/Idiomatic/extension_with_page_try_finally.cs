// An extension that begins and ends one page's access explicitly, with the end in a finally; the range is the
// same expression over an unchanged parameter at both ends. Correct: silent.
using System;
using DmaBuf;

namespace Idiomatic;

internal delegate void PageBody(Span<byte> bytes);

internal static class WithPageExtensions
{
    public static void WithPage(this DmaBuffer b, long page, PageBody body)
    {
        b.BeginCpuAccess(page * DmaBuffer.PageSize, DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
        try
        {
            using var mapped = b.Kmap(page);
            body(mapped.Span);
        }
        finally
        {
            b.EndCpuAccess(page * DmaBuffer.PageSize, DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
        }
    }
}

internal static class ExtensionWithPageTryFinally
{
    public static void Invert(DmaBuffer buf)
    {
        for (long p = 0; p < buf.PageCount; p++)
        {
            buf.WithPage(p, span =>
            {
                for (int i = 0; i < span.Length; i++)
                    span[i] = (byte)~span[i];
            });
        }
    }
}
