// Every page of the buffer mapped (non-atomic) into a List inside an access over the whole buffer, gathered into
// an array, and disposed in a foreach in a finally. Correct: silent.
using System;
using System.Collections.Generic;
using DmaBuf;

namespace Idiomatic;

internal static class PagesListKmapAll
{
    public static byte[] Gather(DmaBuffer buf)
    {
        var result = new byte[buf.Size];
        using (buf.CpuAccess(0, buf.Size, DmaDataDirection.FromDevice))
        {
            var pages = new List<DmaBufPage>();
            try
            {
                for (long p = 0; p < buf.PageCount; p++)
                    pages.Add(buf.Kmap(p));
                foreach (var page in pages)
                    page.Span.CopyTo(result.AsSpan(checked((int)(page.PageNumber * DmaBuffer.PageSize))));
            }
            finally
            {
                foreach (var page in pages)
                    page.Dispose();
            }
        }

        return result;
    }
}
