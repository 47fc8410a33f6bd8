// A custom exporter whose pages are resident in native memory, with a lock taken around the page table.
// Bug: the KmapAtomic callback takes the lock, which may block in an atomic callback (DMA0008 at the lock). The
// same lock in Kmap and BeginCpuAccess is allowed.
using System;
using System.Runtime.InteropServices;
using DmaBuf;

namespace Idiomatic;

internal sealed class LockedPagesExporter : DmaBufExporter
{
    private readonly object _gate = new();
    private nint _memory;

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
        lock (_gate) // expect: DMA0008
        {
            return _memory + (nint)(pageNumber * DmaBuffer.PageSize);
        }
    }

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
