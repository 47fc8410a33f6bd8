// Kernel: drivers/gpu/drm/i915/selftests/i915_gem_dmabuf.c, igt_dmabuf_import_self(), torvalds/linux@4149f70f7c60 (v4.11)
// The i915 mock selftest of a self-import: export a GEM object, import the dma-buf back into the same device
// (i915_gem_prime_import() recognises its own ops and returns the same object with a GEM reference, taking no
// dma-buf reference), check that no new object was made, and unwind through out_import/out_dmabuf/out, each label
// reached from its own failure. i915_gem_prime_import() (v4.11) is in the same compilation unit (the selftest is
// #included into i915_gem_dmabuf.c) and is ported with it, foreign-buffer path included: attach, get_dma_buf (a
// reference the object keeps), fail_detach unwinding. The test's dma-buf reference is put once at out_dmabuf on
// every path that took it. Correct: silent.
using DmaBuf;

namespace Kernel.I915.ImportSelf;

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

    public static int IgtDmabufImportSelf(DrmDevice i915)
    {
        I915GemObject? obj;
        I915GemObject? import;
        DmaBuffer? dmabuf;
        int err = 0;

        obj = ObjectCreate(i915, DmaBuffer.PageSize);
        if (obj == null)
            return E.ENOMEM;

        try
        {
            dmabuf = PrimeExport(obj, 0);
        }
        catch (DmaBufException e)
        {
            dmabuf = null;
            err = -e.Errno;
        }

        if (dmabuf == null)
        {
            Log.Error("i915_gem_prime_export failed with err={0}", err);
            goto out_obj;
        }

        import = PrimeImport(i915, dmabuf, out err);
        if (import == null)
        {
            Log.Error("i915_gem_prime_import failed with err={0}", err);
            goto out_dmabuf;
        }

        if (import != obj)
        {
            Log.Error("i915_gem_prime_import created a new object!");
            err = E.EINVAL;
            goto out_import;
        }

        err = 0;
    out_import:
        import.Put();
    out_dmabuf:
        dmabuf.Put();
    out_obj:
        obj.Put();
        return err;
    }
}
