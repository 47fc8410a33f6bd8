// LINQ over the page numbers: Select maps each page in a lambda, and ToArray runs the query while the scope is
// still open. Correct: silent.
using System.Linq;
using DmaBuf;

namespace Idiomatic;

internal static class LinqPageChecksums
{
    public static int[] PageChecksums(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, buf.Size, DmaDataDirection.FromDevice))
        {
            return Enumerable.Range(0, checked((int)buf.PageCount))
                .Select(p =>
                {
                    using var page = buf.Kmap(p);
                    return Bytes.Sum(page.Span);
                })
                .ToArray();
        }
    }
}
