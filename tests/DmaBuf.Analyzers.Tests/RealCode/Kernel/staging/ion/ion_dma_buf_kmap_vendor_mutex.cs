// Kernel: drivers/staging/android/ion/ion.c, ion_dma_buf_kmap(), Android 4.14 vendor tree (Unisoc/Spreadtrum, sprd_iommu)
// A vendor ION of the 4.14 era: begin/end_cpu_access only do cache maintenance, and the kernel mapping moved into the
// kmap callback itself: ion_dma_buf_kmap() takes buffer->lock (a mutex), calls ion_buffer_kmap_get() (the heap's
// map_kernel, a vmap on first use) and unlocks; ion_dma_buf_kunmap() takes the mutex again to drop it. The ops table
// keeps the mainline wiring `.map_atomic = ion_dma_buf_kmap, .unmap_atomic = ion_dma_buf_kunmap`.
// The bug (real, in the vendor tree): the atomic callbacks sleep. "Neither the importer nor the exporter (in the
// callback) is allowed to block when using these." DMA0008 at the call of the blocking helper in KmapAtomic and in
// KunmapAtomic (the helpers lock a KMutex, whose Lock is [MightSleep]). The non-atomic Kmap/Kunmap may sleep: silent.
using System.Collections.Generic;
using DmaBuf;

namespace Kernel.Ion.VendorKmapMutex;

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
    public const ulong IonFlagCached = 1;

    public IonBuffer(IonHeap heap, long size, ulong flags)
    {
        Heap = heap;
        Size = size;
        Flags = flags;
        SgTable = new ScatterGatherTable(new[] { new ScatterGatherEntry(0x4000_0000, size) });
    }

    public IonHeap Heap { get; }

    public long Size { get; }

    public ulong Flags { get; }

    public ScatterGatherTable SgTable { get; }

    public KMutex Lock { get; } = new KMutex();

    public List<IonDmaBufAttachment> Attachments { get; } = new List<IonDmaBufAttachment>();

    public nint Vaddr;

    public int KmapCnt;
}

internal static class DmaSync
{
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
            return 0; // ERR_PTR(-EINVAL)
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

    private nint DmaBufKmap(long offset)
    {
        nint vaddr;

        if (!_buffer.Heap.HasMapKernel)
        {
            Log.Error("{0}: map kernel is not implemented by this heap.", "ion_dma_buf_kmap");
            return 0; // ERR_PTR(-ENOTTY)
        }

        _buffer.Lock.Lock();
        vaddr = BufferKmapGet(_buffer);
        _buffer.Lock.Unlock();

        if (vaddr == 0)
            return vaddr;

        return vaddr + (nint)(offset * DmaBuffer.PageSize);
    }

    private void DmaBufKunmap(long offset, nint ptr)
    {
        if (_buffer.Heap.HasMapKernel)
        {
            _buffer.Lock.Lock();
            BufferKmapPut(_buffer);
            _buffer.Lock.Unlock();
        }
    }

    protected override void Attach(DmaBufAttachment attachment)
    {
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

    protected override ScatterGatherTable MapDmaBuf(DmaBufAttachment attachment, DmaDataDirection direction) =>
        new ScatterGatherTable(((IonDmaBufAttachment)attachment.ExporterData!).Table.Entries);

    protected override void UnmapDmaBuf(DmaBufAttachment attachment, ScatterGatherTable table)
    {
    }

    protected override void Release(DmaBuffer buffer)
    {
    }

    // .map_atomic = ion_dma_buf_kmap, .unmap_atomic = ion_dma_buf_kunmap
    protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber) => DmaBufKmap(pageNumber); // expect: DMA0008

    protected override void KunmapAtomic(DmaBuffer buffer, long pageNumber, nint address) => DmaBufKunmap(pageNumber, address); // expect: DMA0008

    // .map = ion_dma_buf_kmap, .unmap = ion_dma_buf_kunmap
    protected override nint Kmap(DmaBuffer buffer, long pageNumber) => DmaBufKmap(pageNumber);

    protected override void Kunmap(DmaBuffer buffer, long pageNumber, nint address) => DmaBufKunmap(pageNumber, address);

    protected override void BeginCpuAccess(DmaBuffer buffer, long start, long length, DmaDataDirection direction)
    {
        _buffer.Lock.Lock();
        if ((_buffer.Flags & IonBuffer.IonFlagCached) == 0)
            goto unlock;

        foreach (IonDmaBufAttachment a in _buffer.Attachments)
            DmaSync.ForCpu(a.Dev, a.Table, direction);
    unlock:
        _buffer.Lock.Unlock();
    }

    protected override void EndCpuAccess(DmaBuffer buffer, long start, long length, DmaDataDirection direction)
    {
        _buffer.Lock.Lock();

        if ((_buffer.Flags & IonBuffer.IonFlagCached) == 0)
            goto unlock;

        foreach (IonDmaBufAttachment a in _buffer.Attachments)
            DmaSync.ForDevice(a.Dev, a.Table, direction);
    unlock:
        _buffer.Lock.Unlock();
    }
}
