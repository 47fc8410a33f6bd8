// An exporter that settles a pending background flush before handing out a page address.
// Bug: its KmapAtomic override calls Settle(), which blocks on Task.Wait (DMA0008 at the call in KmapAtomic). The same
// call in the non-atomic Kmap override may block.
using System.Threading.Tasks;
using DmaBuf;

namespace Idiomatic.Round2;

internal sealed class FlushingExporter : DmaBufExporter
{
    private readonly Task _pending = Task.CompletedTask;
    private readonly nint _base = 0x1000;

    private void Settle() => _pending.Wait();

    protected override ScatterGatherTable MapDmaBuf(DmaBufAttachment attachment, DmaDataDirection direction) =>
        new ScatterGatherTable(new[] { new ScatterGatherEntry(0x1000, DmaBuffer.PageSize) });

    protected override void UnmapDmaBuf(DmaBufAttachment attachment, ScatterGatherTable table)
    {
    }

    protected override void Release(DmaBuffer buffer)
    {
    }

    protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber)
    {
        Settle(); // expect: DMA0008
        return _base + (nint)(pageNumber * DmaBuffer.PageSize);
    }

    protected override nint Kmap(DmaBuffer buffer, long pageNumber)
    {
        Settle();
        return _base + (nint)(pageNumber * DmaBuffer.PageSize);
    }
}
