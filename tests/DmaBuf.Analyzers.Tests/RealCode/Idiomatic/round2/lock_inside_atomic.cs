// A cache of page headers guarded by a lock.
// Bug: the lock is taken while an atomic mapping is held (DMA0005 at the `lock`): a contended Monitor.Enter blocks.
// The second method takes the lock first and maps inside it, which is fine (see lock_outside_atomic.cs).
using System.Collections.Generic;
using DmaBuf;

namespace Idiomatic.Round2;

internal sealed class HeaderCache
{
    private readonly object _gate = new object();
    private readonly Dictionary<long, byte> _headers = new Dictionary<long, byte>();

    public void Record(DmaBuffer buf, long pageNumber)
    {
        buf.BeginCpuAccess(pageNumber * DmaBuffer.PageSize, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        var page = buf.KmapAtomic(pageNumber);
        lock (_gate) // expect: DMA0005
        {
            _headers[pageNumber] = page.Span[0];
        }

        buf.KunmapAtomic(pageNumber, page);
        buf.EndCpuAccess(pageNumber * DmaBuffer.PageSize, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
    }
}
