// Kernel: drivers/staging/android/ion/ion.c, ion_dma_buf_begin_cpu_access(), v4.16
// ION's dma-buf exporter callbacks after the 4.12 rework, while dma_buf_ops still had map_atomic (removed in 4.19):
// .map_atomic and .map are both ion_dma_buf_kmap(), which only offsets into the kernel mapping that
// begin_cpu_access prepared (ion_buffer_kmap_get() under buffer->lock, then dma_sync_sg_for_cpu() for every
// attachment, with `goto unlock` when the heap's map_kernel fails); end_cpu_access drops the kernel mapping and syncs
// for the device; attach duplicates the buffer's table per attachment under the lock; map_dma_buf dma-maps it.
// Everything that may sleep (the mutex, map_kernel's vmap) is in begin/end_cpu_access and attach/detach, none in the
// atomic callbacks: "the exporter needs to complete any preparations that might fail in begin_cpu_access".
// Correct: silent (no DMA0008). Compare ion_dma_buf_kmap_vendor_mutex.cs, a vendor tree whose kmap takes the lock.
using System.Collections.Generic;
using DmaBuf;

namespace Kernel.Ion.DmaBufOps416;

internal sealed class IonHeap
{
    public bool HasMapKernel { get; init; } = true;

    // heap->ops->map_kernel: vmap() of the buffer's pages; may sleep.
    [MightSleep]
    public nint MapKernel(IonBuffer buffer) => 0x7000_0000;

    [MightSleep]
    public void UnmapKernel(IonBuffer buffer)
    {
    }
}

internal sealed class IonDmaBufAttachment
{
    public IonDmaBufAttachment(Device dev, ScatterGatherTable table)
    {
        Dev = dev;
        Table = table;
    }

    public Device Dev { get; }

    public ScatterGatherTable Table { get; }
}

internal sealed class IonBuffer
{
    public IonBuffer(IonHeap heap, long size)
    {
        Heap = heap;
        Size = size;
        SgTable = new ScatterGatherTable(new[] { new ScatterGatherEntry(0x4000_0000, size) });
    }

    public IonHeap Heap { get; }

    public long Size { get; }

    public ScatterGatherTable SgTable { get; }

    public KMutex Lock { get; } = new KMutex();

    public List<IonDmaBufAttachment> Attachments { get; } = new List<IonDmaBufAttachment>();

    public nint Vaddr;

    public int KmapCnt;
}

internal static class DmaSync
{
    // dma_sync_sg_for_cpu()/dma_sync_sg_for_device(): cache maintenance, does not sleep.
    public static void ForCpu(Device dev, ScatterGatherTable table, DmaDataDirection direction)
    {
    }

    public static void ForDevice(Device dev, ScatterGatherTable table, DmaDataDirection direction)
    {
    }
}

internal sealed class IonDmaBufExporter : DmaBufExporter
{
    private readonly IonBuffer _buffer;

    public IonDmaBufExporter(IonBuffer buffer) => _buffer = buffer;

    private static nint BufferKmapGet(IonBuffer buffer)
    {
        nint vaddr;

        if (buffer.KmapCnt != 0)
        {
            buffer.KmapCnt++;
            return buffer.Vaddr;
        }

        vaddr = buffer.Heap.MapKernel(buffer);
        if (vaddr == 0)
            return 0; // ERR_PTR
        buffer.Vaddr = vaddr;
        buffer.KmapCnt++;
        return vaddr;
    }

    private static void BufferKmapPut(IonBuffer buffer)
    {
        buffer.KmapCnt--;
        if (buffer.KmapCnt == 0)
        {
            buffer.Heap.UnmapKernel(buffer);
            buffer.Vaddr = 0;
        }
    }

    protected override void Attach(DmaBufAttachment attachment)
    {
        // dup_sg_table(buffer->sg_table)
        var a = new IonDmaBufAttachment(attachment.Device, new ScatterGatherTable(_buffer.SgTable.Entries));

        attachment.ExporterData = a;

        _buffer.Lock.Lock();
        _buffer.Attachments.Add(a);
        _buffer.Lock.Unlock();
    }

    protected override void Detach(DmaBufAttachment attachment)
    {
        var a = (IonDmaBufAttachment)attachment.ExporterData!;

        _buffer.Lock.Lock();
        _buffer.Attachments.Remove(a);
        _buffer.Lock.Unlock();
        attachment.ExporterData = null;
    }

    protected override ScatterGatherTable MapDmaBuf(DmaBufAttachment attachment, DmaDataDirection direction)
    {
        var a = (IonDmaBufAttachment)attachment.ExporterData!;

        // dma_map_sg(attachment->dev, table->sgl, table->nents, direction)
        return new ScatterGatherTable(a.Table.Entries);
    }

    protected override void UnmapDmaBuf(DmaBufAttachment attachment, ScatterGatherTable table)
    {
    }

    protected override void Release(DmaBuffer buffer)
    {
        // _ion_buffer_destroy(buffer)
    }

    private nint DmaBufKmap(long offset) => _buffer.Vaddr + (nint)(offset * DmaBuffer.PageSize);

    protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber) => DmaBufKmap(pageNumber);

    protected override void KunmapAtomic(DmaBuffer buffer, long pageNumber, nint address)
    {
    }

    protected override nint Kmap(DmaBuffer buffer, long pageNumber) => DmaBufKmap(pageNumber);

    protected override void Kunmap(DmaBuffer buffer, long pageNumber, nint address)
    {
    }

    protected override void BeginCpuAccess(DmaBuffer buffer, long start, long length, DmaDataDirection direction)
    {
        nint vaddr;
        int ret = 0;

        /*
         * TODO: Move this elsewhere because we don't always need a vaddr
         */
        if (_buffer.Heap.HasMapKernel)
        {
            _buffer.Lock.Lock();
            vaddr = BufferKmapGet(_buffer);
            if (vaddr == 0)
            {
                ret = E.ENOMEM; // PTR_ERR(vaddr)
                goto unlock;
            }

            _buffer.Lock.Unlock();
        }

        _buffer.Lock.Lock();
        foreach (IonDmaBufAttachment a in _buffer.Attachments)
            DmaSync.ForCpu(a.Dev, a.Table, direction);

    unlock:
        _buffer.Lock.Unlock();
        if (ret != 0)
            throw new DmaBufException(-ret, "ion_dma_buf_begin_cpu_access");
    }

    protected override void EndCpuAccess(DmaBuffer buffer, long start, long length, DmaDataDirection direction)
    {
        if (_buffer.Heap.HasMapKernel)
        {
            _buffer.Lock.Lock();
            BufferKmapPut(_buffer);
            _buffer.Lock.Unlock();
        }

        _buffer.Lock.Lock();
        foreach (IonDmaBufAttachment a in _buffer.Attachments)
            DmaSync.ForDevice(a.Dev, a.Table, direction);
        _buffer.Lock.Unlock();
    }
}
