// Kernel: drivers/gpu/drm/omapdrm/omap_gem_dmabuf.c, omap_gem_dmabuf_kmap_atomic(), v3.10
// The OMAP DRM exporter's dma_buf_ops, with the omap_gem.c helpers they call:
// - begin_cpu_access rejects tiled buffers and pins the pages with omap_gem_get_pages(obj, &pages, true), which
//   takes struct_mutex and may allocate shmem pages (it may sleep, which begin_cpu_access may);
// - kmap_atomic/kmap look the pages up with omap_gem_get_pages(obj, &pages, false): with remap == false the helper
//   only reads omap_obj->pages and returns, never reaching the mutex; then omap_gem_cpu_sync() (dma_unmap_page, no
//   sleep) and kmap_atomic()/kmap() of the page.
// So the atomic callbacks do not block: the blocking branch of the shared helper is ruled out by the constant false
// they pass. map_dma_buf pins a contiguous address (may sleep: allowed there). Correct: silent.
using DmaBuf;

namespace Kernel.Omap.GemDmabuf;

internal sealed class DrmDevice
{
    public KMutex StructMutex { get; } = new KMutex();
}

internal sealed class OmapGemObject
{
    public const uint OmapBoTiled = 0x0f00;

    public OmapGemObject(DrmDevice dev, long size, uint flags)
    {
        Dev = dev;
        Size = size;
        Flags = flags;
        Addrs = new ulong[size / DmaBuffer.PageSize];
    }

    public DrmDevice Dev { get; }

    public long Size { get; }

    public uint Flags { get; }

    public nint[]? Pages;

    public ulong[] Addrs;

    public ulong Paddr;

    public int PaddrCnt;

    public int Refs = 1;
}

internal static class OmapGem
{
    private static bool IsCachedCoherent(OmapGemObject obj) => (obj.Flags & 0x3) == 0;

    [MightSleep]
    private static int OmapGemAttachPages(OmapGemObject obj)
    {
        obj.Pages = new nint[obj.Size / DmaBuffer.PageSize]; // shmem_read_mapping_page_gfp(): may sleep
        return 0;
    }

    private static int GetPagesUnlocked(OmapGemObject obj, out nint[]? pages) // get_pages()
    {
        int ret = 0;

        if (obj.Pages == null)
        {
            ret = OmapGemAttachPages(obj);
            if (ret != 0)
            {
                Log.Error("could not attach pages");
                pages = null;
                return ret;
            }
        }

        /* TODO: even phys-contig.. we should have a list of pages? */
        pages = obj.Pages;

        return 0;
    }

    public static int GetPages(OmapGemObject obj, out nint[]? pages, bool remap)
    {
        int ret;

        if (!remap)
        {
            if (obj.Pages == null)
            {
                pages = null;
                return E.ENOMEM;
            }

            pages = obj.Pages;
            return 0;
        }

        obj.Dev.StructMutex.Lock();
        ret = GetPagesUnlocked(obj, out pages);
        obj.Dev.StructMutex.Unlock();
        return ret;
    }

    public static int PutPages(OmapGemObject obj) => 0;

    public static uint ObjFlags(OmapGemObject obj) => obj.Flags;

    public static void CpuSync(OmapGemObject obj, long pgoff)
    {
        if (IsCachedCoherent(obj) && obj.Addrs[pgoff] != 0)
        {
            // dma_unmap_page(dev->dev, omap_obj->addrs[pgoff], PAGE_SIZE, DMA_BIDIRECTIONAL);
            obj.Addrs[pgoff] = 0;
        }
    }

    public static int GetPaddr(OmapGemObject obj, out ulong paddr, bool remap)
    {
        int ret = 0;

        obj.Dev.StructMutex.Lock();
        if (obj.PaddrCnt == 0)
        {
            ret = GetPagesUnlocked(obj, out _);
            if (ret == 0)
                obj.Paddr = 0x80000000;
        }

        if (ret == 0)
            obj.PaddrCnt++;
        paddr = obj.Paddr;
        obj.Dev.StructMutex.Unlock();
        return ret;
    }

    public static void PutPaddr(OmapGemObject obj)
    {
        obj.Dev.StructMutex.Lock();
        if (obj.PaddrCnt > 0)
            obj.PaddrCnt--;
        obj.Dev.StructMutex.Unlock();
    }

    // kmap_atomic()/kunmap_atomic()/kmap()/kunmap() of a struct page.
    public static nint KmapAtomicPage(nint page) => page;

    [MightSleep]
    public static nint KmapPage(nint page) => page;
}

internal sealed class OmapGemDmabufExporter : DmaBufExporter
{
    public OmapGemDmabufExporter(OmapGemObject obj) => Obj = obj;

    public OmapGemObject Obj { get; }

    protected override ScatterGatherTable MapDmaBuf(DmaBufAttachment attachment, DmaDataDirection direction)
    {
        OmapGemObject obj = Obj;
        ulong paddr;
        int ret;

        /* camera, etc, need physically contiguous.. but we need a
         * better way to know this..
         */
        ret = OmapGem.GetPaddr(obj, out paddr, true);
        if (ret != 0)
            throw new DmaBufException(-ret, "omap_gem_map_dma_buf");

        /* this should be after _get_paddr() to ensure we have pages attached */
        // omap_gem_dma_sync(obj, dir);

        return new ScatterGatherTable(new[] { new ScatterGatherEntry(paddr, obj.Size) });
    }

    protected override void UnmapDmaBuf(DmaBufAttachment attachment, ScatterGatherTable table)
    {
        OmapGem.PutPaddr(Obj);
    }

    protected override void Release(DmaBuffer buffer)
    {
        /* release reference that was taken when dmabuf was exported
         * in omap_gem_prime_set()..
         */
        Obj.Refs--;
    }

    protected override void BeginCpuAccess(DmaBuffer buffer, long start, long length, DmaDataDirection direction)
    {
        OmapGemObject obj = Obj;
        int ret;

        if ((OmapGem.ObjFlags(obj) & OmapGemObject.OmapBoTiled) != 0)
        {
            /* TODO we would need to pin at least part of the buffer to
             * get de-tiled view.  For now just reject it.
             */
            throw new DmaBufException(Errno.ENOMEM, "omap_gem_dmabuf_begin_cpu_access: tiled");
        }

        /* make sure we have the pages: */
        ret = OmapGem.GetPages(obj, out _, true);
        if (ret != 0)
            throw new DmaBufException(-ret, "omap_gem_dmabuf_begin_cpu_access");
    }

    protected override void EndCpuAccess(DmaBuffer buffer, long start, long length, DmaDataDirection direction)
    {
        OmapGem.PutPages(Obj);
    }

    protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber)
    {
        OmapGemObject obj = Obj;
        nint[]? pages;

        OmapGem.GetPages(obj, out pages, false);
        OmapGem.CpuSync(obj, pageNumber);
        return OmapGem.KmapAtomicPage(pages![pageNumber]);
    }

    protected override void KunmapAtomic(DmaBuffer buffer, long pageNumber, nint address)
    {
        // kunmap_atomic(addr);
    }

    protected override nint Kmap(DmaBuffer buffer, long pageNumber)
    {
        OmapGemObject obj = Obj;
        nint[]? pages;

        OmapGem.GetPages(obj, out pages, false);
        OmapGem.CpuSync(obj, pageNumber);
        return OmapGem.KmapPage(pages![pageNumber]);
    }

    protected override void Kunmap(DmaBuffer buffer, long pageNumber, nint address)
    {
        OmapGemObject obj = Obj;
        nint[]? pages;

        OmapGem.GetPages(obj, out pages, false);
        // kunmap(pages[page_num]);
    }
}
