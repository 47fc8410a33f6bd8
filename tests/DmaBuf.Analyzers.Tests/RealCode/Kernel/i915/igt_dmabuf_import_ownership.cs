// Kernel: drivers/gpu/drm/i915/selftests/i915_gem_dmabuf.c, igt_dmabuf_import_ownership(), torvalds/linux@4149f70f7c60 (v4.11)
// The i915 mock selftest of import ownership: make a one-page mock dma-buf (mock_dmabuf(), same compilation unit),
// write it through dma_buf_vmap(), import it (i915_gem_prime_import() takes its own reference with get_dma_buf),
// drop the test's reference right after the import, then pin the object's pages (which maps the attachment) to show
// the object still owns the buffer. err_dmabuf: puts the test's reference on the paths that still hold it.
// dma_buf_vmap() of the one-page mock is ported as a kmap of page 0 (the runtime has no vmap): the test writes it
// with no CPU access begun (DMA0007 at that kmap; DESIGN counts access to a vmap's bytes without CPU access the same
// way). After the test's own put, only the object (not the variable) is used: no DMA0011. mock_dmabuf() and
// i915_gem_prime_import() are ported with it.
using System.Runtime.InteropServices;
using DmaBuf;

namespace Kernel.I915.ImportOwnership;

// The pages of the mock: alloc_page(GFP_KERNEL) may sleep; kmap may sleep, kmap_atomic may not.
internal static class Highmem
{
    [MightSleep]
    public static nint AllocPage() => Marshal.AllocHGlobal(DmaBuffer.PageSize);

    public static void PutPage(nint page) => Marshal.FreeHGlobal(page);

    [MightSleep]
    public static nint Kmap(nint page) => page;

    public static void Kunmap(nint page)
    {
    }

    public static nint KmapAtomic(nint page) => page;

    public static void KunmapAtomic(nint addr)
    {
    }
}

// struct mock_dmabuf and mock_dmabuf_ops (selftests/mock_dmabuf.c).
internal sealed class MockDmabufExporter : DmaBufExporter
{
    public MockDmabufExporter(int npages)
    {
        Npages = npages;
        Pages = new nint[npages];
    }

    public int Npages { get; }

    public nint[] Pages { get; }

    protected override ScatterGatherTable MapDmaBuf(DmaBufAttachment attachment, DmaDataDirection direction)
    {
        var sg = new ScatterGatherEntry[Npages];
        int i;

        for (i = 0; i < Npages; i++)
            sg[i] = new ScatterGatherEntry((ulong)Pages[i], DmaBuffer.PageSize);

        if (attachment.Device.MaxSegmentCount < Npages) // !dma_map_sg(attachment->dev, st->sgl, st->nents, dir)
            throw new DmaBufException(Errno.ENOMEM, "mock_map_dma_buf: dma_map_sg failed");

        return new ScatterGatherTable(sg);
    }

    protected override void UnmapDmaBuf(DmaBufAttachment attachment, ScatterGatherTable table)
    {
        // dma_unmap_sg(); sg_free_table(); kfree()
    }

    protected override void Release(DmaBuffer buffer)
    {
        int i;

        for (i = 0; i < Npages; i++)
            Highmem.PutPage(Pages[i]);
    }

    protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber) => Highmem.KmapAtomic(Pages[pageNumber]);

    protected override void KunmapAtomic(DmaBuffer buffer, long pageNumber, nint address) => Highmem.KunmapAtomic(address);

    protected override nint Kmap(DmaBuffer buffer, long pageNumber) => Highmem.Kmap(Pages[pageNumber]);

    protected override void Kunmap(DmaBuffer buffer, long pageNumber, nint address) => Highmem.Kunmap(Pages[pageNumber]);
}

internal static class MockDmabuf
{
    private const int OCloexec = 0x80000;

    // mock_dmabuf(): ERR_PTR(-ENOMEM) is a thrown DmaBufException, the runtime's way to fail an export.
    public static DmaBuffer Create(int npages)
    {
        MockDmabufExporter mock;
        DmaBuffer dmabuf;
        int i;

        mock = new MockDmabufExporter(npages);

        for (i = 0; i < npages; i++)
        {
            mock.Pages[i] = Highmem.AllocPage();
            if (mock.Pages[i] == 0)
                goto err;
        }

        try
        {
            dmabuf = DmaBuffer.Export(mock, npages * (long)DmaBuffer.PageSize, OCloexec);
        }
        catch (DmaBufException)
        {
            goto err;
        }

        return dmabuf;

    err:
        while (i-- > 0)
            Highmem.PutPage(mock.Pages[i]);
        throw new DmaBufException(Errno.ENOMEM, "mock_dmabuf: out of memory");
    }
}

internal sealed class DrmDevice
{
    public DrmDevice(Device dev) => Dev = dev;

    public Device Dev { get; }
}

internal sealed class I915GemObject
{
    private int _refs = 1;

    public I915GemObject(DrmDevice dev, long size)
    {
        Dev = dev;
        Size = size;
    }

    public DrmDevice Dev { get; }

    public long Size { get; }

    public DmaBufAttachment? ImportAttach { get; set; }

    /// <summary>The reference get_dma_buf() took at import (the kernel finds it again through import_attach->dmabuf).</summary>
    public DmaBuffer? ImportRef { get; set; }

    /// <summary>obj->mm.pages: for an imported object, the table i915_gem_object_get_pages_dmabuf() mapped.</summary>
    public ScatterGatherTable? Pages { get; set; }

    public int PagesPinCount { get; set; }

    public I915GemObject Get()
    {
        _refs++;
        return this;
    }

    public void Put()
    {
        if (--_refs != 0)
            return;

        if (ImportAttach != null)
        {
            // i915_gem_object_put_pages_dmabuf(): dma_buf_unmap_attachment(obj->base.import_attach, pages, BIDI)
            if (Pages != null)
                ImportAttach.Buffer.UnmapAttachment(ImportAttach, Pages);
            Pages = null;

            // drm_prime_gem_destroy(&obj->base, NULL)
            ImportAttach.Buffer.Detach(ImportAttach);
            ImportRef?.Put();
            ImportAttach = null;
            ImportRef = null;
        }
    }

    // i915_gem_object_pin_pages(): the first pin of an imported object maps the attachment.
    public int PinPages()
    {
        if (Pages == null && ImportAttach != null)
        {
            try
            {
                Pages = ImportAttach.Buffer.MapAttachment(ImportAttach, DmaDataDirection.Bidirectional);
            }
            catch (DmaBufException e)
            {
                return -e.Errno;
            }
        }

        PagesPinCount++;
        return 0;
    }

    public void UnpinPages() => PagesPinCount--;
}

// i915_dmabuf_ops, reduced to what the tests reach.
internal sealed class I915DmabufExporter : DmaBufExporter
{
    public I915DmabufExporter(I915GemObject obj) => Obj = obj;

    public I915GemObject Obj { get; }

    protected override ScatterGatherTable MapDmaBuf(DmaBufAttachment attachment, DmaDataDirection direction) =>
        new ScatterGatherTable(new[] { new ScatterGatherEntry(0x100000, Obj.Size) });

    protected override void UnmapDmaBuf(DmaBufAttachment attachment, ScatterGatherTable table)
    {
    }

    protected override void Release(DmaBuffer buffer) => Obj.Put();

    protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber) => 0;

    protected override nint Kmap(DmaBuffer buffer, long pageNumber) => 0;
}

internal static class I915GemDmabuf
{
    public static I915GemObject? ObjectCreate(DrmDevice dev, long size) => size > 0 ? new I915GemObject(dev, size) : null;

    private static I915GemObject? ObjectAlloc(DrmDevice dev, long size) => size > 0 ? new I915GemObject(dev, size) : null;

    // i915_gem_prime_export() -> dma_buf_export(): the dma-buf holds a reference to the object.
    public static DmaBuffer PrimeExport(I915GemObject obj, int flags)
    {
        DmaBuffer dmabuf = DmaBuffer.Export(new I915DmabufExporter(obj), obj.Size, flags);
        obj.Get();
        return dmabuf;
    }

    // i915_gem_prime_import() (v4.11): a self-import takes a GEM reference; a foreign buffer is attached and the
    // object takes its own dma-buf reference (get_dma_buf). ERR_PTR returns are a null object and the errno in err.
    public static I915GemObject? PrimeImport(DrmDevice dev, DmaBuffer dmaBuf, out int err)
    {
        DmaBufAttachment attach;
        DmaBuffer held;
        I915GemObject? obj;
        int ret;

        /* is this one of own objects? */
        if (dmaBuf.Exporter is I915DmabufExporter own)
        {
            obj = own.Obj;
            /* is it from our device? */
            if (obj.Dev == dev)
            {
                /*
                 * Importing dmabuf exported from out own gem increases
                 * refcount on gem itself instead of f_count of dmabuf.
                 */
                err = 0;
                return obj.Get();
            }
        }

        /* need to attach */
        try
        {
            attach = dmaBuf.Attach(dev.Dev);
        }
        catch (DmaBufException e)
        {
            err = -e.Errno;
            return null;
        }

        held = Dma.GetDmaBuf(dmaBuf);

        obj = ObjectAlloc(dev, dmaBuf.Size); // i915_gem_object_alloc() + drm_gem_private_object_init()
        if (obj == null)
        {
            ret = E.ENOMEM;
            goto fail_detach;
        }

        obj.ImportAttach = attach;
        obj.ImportRef = held;

        err = 0;
        return obj;

    fail_detach:
        dmaBuf.Detach(attach);
        held.Put();

        err = ret;
        return null;
    }

    public static int IgtDmabufImportOwnership(DrmDevice i915)
    {
        I915GemObject? obj;
        DmaBuffer dmabuf;
        DmaBufPage? ptr;
        int err;

        try
        {
            dmabuf = MockDmabuf.Create(1);
        }
        catch (DmaBufException e)
        {
            return -e.Errno;
        }

        try { ptr = dmabuf.Kmap(0); } catch (DmaBufException) { ptr = null; } // expect: DMA0007
        if (ptr == null)
        {
            Log.Error("dma_buf_vmap failed");
            err = E.ENOMEM;
            goto err_dmabuf;
        }

        ptr.Value.Span.Fill(0xc5);
        dmabuf.Kunmap(0, ptr.Value);

        obj = PrimeImport(i915, dmabuf, out err);
        if (obj == null)
        {
            Log.Error("i915_gem_prime_import failed with err={0}", err);
            goto err_dmabuf;
        }

        dmabuf.Put();

        err = obj.PinPages();
        if (err != 0)
        {
            Log.Error("i915_gem_object_pin_pages failed with err={0}", err);
            goto out_obj;
        }

        err = 0;
        obj.UnpinPages();
    out_obj:
        obj.Put();
        return err;

    err_dmabuf:
        dmabuf.Put();
        return err;
    }
}
