// A custom exporter that counts page hits in a helper guarded by a SemaphoreSlim.
// Bug: KunmapAtomic calls the helper, which waits on the semaphore: blocking in an atomic callback (DMA0008 at the
// call of the helper). KmapAtomic itself only reads a prepared address.
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;
using DmaBuf;

namespace Idiomatic;

internal sealed class CountingExporter : DmaBufExporter
{
    private readonly SemaphoreSlim _statsGate = new(1, 1);
    private readonly Dictionary<long, int> _hits = new();
    private nint _memory;

    protected override void BeginCpuAccess(DmaBuffer buffer, long start, long length, DmaDataDirection direction)
    {
        if (_memory == 0)
            _memory = Marshal.AllocHGlobal((nint)buffer.Size);
    }

    protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber) =>
        _memory + (nint)(pageNumber * DmaBuffer.PageSize);

    protected override void KunmapAtomic(DmaBuffer buffer, long pageNumber, nint address)
    {
        CountHit(pageNumber); // expect: DMA0008
    }

    protected override nint Kmap(DmaBuffer buffer, long pageNumber)
    {
        CountHit(pageNumber);
        return _memory + (nint)(pageNumber * DmaBuffer.PageSize);
    }

    private void CountHit(long pageNumber)
    {
        _statsGate.Wait();
        try
        {
            _hits[pageNumber] = _hits.GetValueOrDefault(pageNumber) + 1;
        }
        finally
        {
            _statsGate.Release();
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
