// Two pages mapped atomically in a loop of constant bound 2 and kept in a List, used together, then disposed in a
// foreach in a finally before the scope ends the access. Two atomic mappings at most, none held at the end.
// Correct: silent.
using System;
using System.Collections.Generic;
using DmaBuf;

namespace Idiomatic;

internal static class PagesListAtomicDisposed
{
    public static void SwapHalves(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional))
        {
            var pages = new List<DmaBufPage>(2);
            try
            {
                for (long p = 0; p < 2; p++)
                    pages.Add(buf.KmapAtomic(p));
                Swap(pages[0].Span, pages[1].Span);
            }
            finally
            {
                foreach (var page in pages)
                    page.Dispose();
            }
        }
    }

    private static void Swap(Span<byte> a, Span<byte> b)
    {
        for (int i = 0; i < a.Length; i++)
            (a[i], b[i]) = (b[i], a[i]);
    }
}
