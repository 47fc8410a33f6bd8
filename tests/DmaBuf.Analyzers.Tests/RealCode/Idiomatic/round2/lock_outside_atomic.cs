// The header cache with the lock taken before the atomic mapping: the mapping is made and released inside the lock
// body, so nothing blocks while it is held (taking a lock is blocking, holding one is not). Correct: silent.
using System.Collections.Generic;
using DmaBuf;

namespace Idiomatic.Round2;

internal sealed class LockedHeaderCache
{
    private readonly object _gate = new object();
    private readonly Dictionary<long, byte> _headers = new Dictionary<long, byte>();

    public void Record(DmaBuffer buf, long pageNumber)
    {
        using var access = buf.CpuAccess(pageNumber * DmaBuffer.PageSize, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        lock (_gate)
        {
            using var page = buf.KmapAtomic(pageNumber);
            _headers[pageNumber] = page.Span[0];
        }
    }
}
