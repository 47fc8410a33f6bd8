// Kernel: drivers/media/v4l2-core/videobuf2-vmalloc.c, vb2_vmalloc_get_dmabuf(), v4.4
// The vmalloc allocator as a dma-buf exporter (VIDIOC_EXPBUF): vb2_vmalloc_get_dmabuf() exports the buffer with
// vb2_vmalloc_dmabuf_ops and hands the new reference to its caller, taking a buffer reference that release drops.
// The ops: attach builds a scatterlist of the vmalloc pages (three failure returns freeing what was built); map
// maps it for the attached device under the dma-buf's mutex, reusing the cached mapping for the same direction;
// detach unmaps the cache; kmap and kmap_atomic are the same function, an address inside the vmalloc area (no sleep).
// Correct: silent.
using DmaBuf;

namespace Kernel.Media.Vb2Vmalloc;

internal sealed class Vb2VmallocBuf
{
    public nint Vaddr;
    public long Size;
    public int Refcount;
}

internal sealed class Vb2VmallocAttachment
{
    public ScatterGatherTable? Sgt;
    public DmaDataDirection DmaDir = DmaDataDirection.None;
    public bool Mapped;
}

internal sealed class Vb2VmallocDmabufExporter : DmaBufExporter
{
    private readonly KMutex _lock = new KMutex(); // dbuf->lock, "stolen" to serialise map/unmap

    public Vb2VmallocDmabufExporter(Vb2VmallocBuf buf) => Buf = buf;

    public Vb2VmallocBuf Buf { get; }

    private static ulong VmallocToPage(nint vaddr) => (ulong)vaddr >> 12;

    protected override void Attach(DmaBufAttachment dbufAttach)
    {
        Vb2VmallocAttachment? attach;
        Vb2VmallocBuf buf = Buf;
        long numPages = (buf.Size + DmaBuffer.PageSize - 1) / DmaBuffer.PageSize;
        var entries = new ScatterGatherEntry[numPages];
        nint vaddr = buf.Vaddr;
        int i;

        attach = Uaccess.Kzalloc<Vb2VmallocAttachment>();
        if (attach == null)
            throw new DmaBufException(Errno.ENOMEM, "vb2_vmalloc_dmabuf_ops_attach");

        for (i = 0; i < numPages; i++)
        {
            ulong page = VmallocToPage(vaddr);

            if (page == 0)
            {
                // sg_free_table(sgt); kfree(attach);
                throw new DmaBufException(Errno.ENOMEM, "vb2_vmalloc_dmabuf_ops_attach");
            }

            entries[i] = new ScatterGatherEntry(page << 12, DmaBuffer.PageSize);
            vaddr += DmaBuffer.PageSize;
        }

        attach.Sgt = new ScatterGatherTable(entries);
        attach.DmaDir = DmaDataDirection.None;
        dbufAttach.ExporterData = attach;
    }

    protected override void Detach(DmaBufAttachment dbAttach)
    {
        var attach = (Vb2VmallocAttachment?)dbAttach.ExporterData;

        if (attach == null)
            return;

        /* release the scatterlist cache */
        if (attach.DmaDir != DmaDataDirection.None)
            attach.Mapped = false; // dma_unmap_sg()
        // sg_free_table(sgt); kfree(attach);
        dbAttach.ExporterData = null;
    }

    protected override ScatterGatherTable MapDmaBuf(DmaBufAttachment dbAttach, DmaDataDirection dmaDir)
    {
        var attach = (Vb2VmallocAttachment)dbAttach.ExporterData!;
        ScatterGatherTable sgt;

        _lock.Lock();

        sgt = attach.Sgt!;
        /* return previously mapped sg table */
        if (attach.DmaDir == dmaDir)
        {
            _lock.Unlock();
            return sgt;
        }

        /* release any previous cache */
        if (attach.DmaDir != DmaDataDirection.None)
        {
            attach.Mapped = false; // dma_unmap_sg()
            attach.DmaDir = DmaDataDirection.None;
        }

        /* mapping to the client with new direction */
        attach.Mapped = dbAttach.Device.MaxSegmentCount >= sgt.Entries.Count; // dma_map_sg()
        if (!attach.Mapped)
        {
            Log.Error("failed to map scatterlist");
            _lock.Unlock();
            throw new DmaBufException(5 /* EIO */, "vb2_vmalloc_dmabuf_ops_map");
        }

        attach.DmaDir = dmaDir;

        _lock.Unlock();

        return sgt;
    }

    protected override void UnmapDmaBuf(DmaBufAttachment dbAttach, ScatterGatherTable sgt)
    {
        /* nothing to be done here */
    }

    protected override void Release(DmaBuffer dbuf)
    {
        /* drop reference obtained in vb2_vmalloc_get_dmabuf */
        Buf.Refcount--; // vb2_vmalloc_put()
    }

    protected override nint Kmap(DmaBuffer dbuf, long pgnum) => Buf.Vaddr + (nint)(pgnum * DmaBuffer.PageSize);

    protected override nint KmapAtomic(DmaBuffer dbuf, long pgnum) => Buf.Vaddr + (nint)(pgnum * DmaBuffer.PageSize);
}

internal static class Vb2Vmalloc
{
    public static DmaBuffer? GetDmabuf(object bufPriv, int flags)
    {
        var buf = (Vb2VmallocBuf)bufPriv;
        DmaBuffer dbuf;

        if (buf.Vaddr == 0) // WARN_ON(!buf->vaddr)
            return null;

        try
        {
            dbuf = DmaBuffer.Export(new Vb2VmallocDmabufExporter(buf), buf.Size, flags);
        }
        catch (DmaBufException)
        {
            return null;
        }

        /* dmabuf keeps reference to vb2 buffer */
        buf.Refcount++;

        return dbuf;
    }
}
