// A custom exporter done right: memory is prepared in BeginCpuAccess (which may block, under a lock), the atomic
// callbacks only compute an address and count with Interlocked, and the blocking bookkeeping lives in Kmap.
// Correct: silent.
using System.Runtime.InteropServices;
using System.Threading;
using DmaBuf;

namespace Idiomatic;

internal sealed class PreparedExporter : DmaBufExporter
{
    private readonly object _gate = new();
    private nint _memory;
    private long _atomicMaps;

    public long AtomicMaps => Interlocked.Read(ref _atomicMaps);

    protected override void BeginCpuAccess(DmaBuffer buffer, long start, long length, DmaDataDirection direction)
    {
        lock (_gate)
        {
            if (_memory == 0)
                _memory = Marshal.AllocHGlobal((nint)buffer.Size);
        }
    }

    protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber)
    {
        Interlocked.Increment(ref _atomicMaps);
        return Volatile.Read(ref _memory) + (nint)(pageNumber * DmaBuffer.PageSize);
    }

    protected override void KunmapAtomic(DmaBuffer buffer, long pageNumber, nint address) =>
        Interlocked.Decrement(ref _atomicMaps);

    protected override nint Kmap(DmaBuffer buffer, long pageNumber)
    {
        lock (_gate)
        {
            return _memory + (nint)(pageNumber * DmaBuffer.PageSize);
        }
    }

    protected override ScatterGatherTable MapDmaBuf(DmaBufAttachment attachment, DmaDataDirection direction) =>
        new(new[] { new ScatterGatherEntry((ulong)_memory, attachment.Buffer.Size) });

    protected override void UnmapDmaBuf(DmaBufAttachment attachment, ScatterGatherTable table)
    {
    }

    protected override void Release(DmaBuffer buffer)
    {
        if (_memory != 0)
            Marshal.FreeHGlobal(_memory);
        _memory = 0;
    }
}
