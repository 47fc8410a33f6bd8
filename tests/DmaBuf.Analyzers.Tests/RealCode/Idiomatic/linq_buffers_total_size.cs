// LINQ over buffers: references taken with a method group in Select go into a list, are summed, and are all put
// in a finally. The references live in a collection. Correct: silent.
using System.Collections.Generic;
using System.Linq;
using DmaBuf;

namespace Idiomatic;

internal static class LinqBuffersTotalSize
{
    public static long TotalSize(IEnumerable<int> fds)
    {
        List<DmaBuffer> buffers = fds.Select(new System.Func<int, DmaBuffer>(DmaBuffer.Get)).ToList();
        try
        {
            return buffers.Where(b => b.PageCount > 0).Sum(b => b.Size);
        }
        finally
        {
            buffers.ForEach(b => b.Put());
        }
    }
}
