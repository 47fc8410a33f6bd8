// LINQ with deferred execution: the query is returned un-run, so its lambda maps pages after the scope has ended.
// Deliberately silent: that is a real late kmap, but it happens in a lambda that captured the buffer and runs
// later, in code the analysis does not follow (a captured buffer may have been begun by whoever runs it).
using System.Collections.Generic;
using System.Linq;
using DmaBuf;

namespace Idiomatic;

internal static class LinqDeferredQuerySilent
{
    public static IEnumerable<int> PageChecksumsLazily(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, buf.Size, DmaDataDirection.FromDevice))
        {
            return Enumerable.Range(0, checked((int)buf.PageCount))
                .Select(p =>
                {
                    using var page = buf.Kmap(p);
                    return Bytes.Sum(page.Span);
                });
        }
    }
}
