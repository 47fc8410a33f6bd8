// Kernel: drivers/gpu/drm/i915/gem/selftests/i915_gem_dmabuf.c, igt_dmabuf_import_same_driver(), v5.15
// The i915 live selftest of importing its own export as if from another device (force_different_devices), as added
// by "drm/i915/gem: Migrate to system at dma-buf attach time": create a one-page shmem object, export it with
// i915_gem_prime_export() (ported with it: a fresh dma_buf_export() reference for the test, ERR_PTR as null plus the
// errno), import it back with i915_gem_prime_import() (ported reduced: it attaches, takes its own reference with
// get_dma_buf() and keeps both in the new object), check that a new object came back, that its pages can be had and
// that the export sits in system memory (that check only sets err), then fake an importer: dma_buf_attach() the
// exported buffer, map the attachment DMA_BIDIRECTIONAL, wait for the exclusive fence, unmap. The ladder out_detach /
// out_import / out_dmabuf (dma_buf_put) / out / out_ret is entered at six points; every path that exported puts the
// reference, and a failed export goes to out with nothing to put. import_obj is assigned before the reuse check, as
// later trees have it (the first version assigned it after, so that jump put an uninitialized pointer; C# would not
// compile it). Correct: silent.
using System;
using DmaBuf;

namespace Kernel.Round3.I915.ImportSameDriver;

internal sealed class DrmDevice
{
    public DrmDevice(Device dev) => Dev = dev;

    public Device Dev { get; }
}

internal sealed class DrmI915Private
{
    public DrmI915Private(DrmDevice drm) => Drm = drm;

    public DrmDevice Drm { get; }
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

    public DmaBufAttachment? ImportAttach;

    /// <summary>The reference i915_gem_prime_import() took with get_dma_buf(); dropped when the object is freed.</summary>
    public DmaBuffer? ImportRef;

    public bool HasPages;

    public bool InSystemMemory = true; // obj->mm.region == i915->mm.regions[INTEL_REGION_SMEM]

    public void Get() => _refs++;

    public void Put() => _refs--;
}

// i915_dmabuf_ops, reduced: the exported object's pages as one segment.
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

    protected override nint Kmap(DmaBuffer buffer, long pageNumber) => 0;

    protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber) => 0;
}

internal static class I915GemDmabufSelftest
{
    private const int ETIME = -62;
    private static bool s_forceDifferentDevices;

    // i915_gem_object_create_shmem(): ERR_PTR is null.
    [MightSleep]
    private static I915GemObject? CreateShmem(DrmI915Private i915, long size) => new I915GemObject(i915.Drm, size);

    // i915_gem_prime_export(): the new reference goes to the caller.
    private static DmaBuffer? PrimeExport(I915GemObject obj, int flags, out int err)
    {
        DmaBuffer dmabuf;

        try
        {
            dmabuf = DmaBuffer.Export(new I915DmabufExporter(obj), obj.Size, flags);
        }
        catch (DmaBufException e)
        {
            err = -e.Errno;
            return null;
        }

        obj.Get();
        err = 0;
        return dmabuf;
    }

    // i915_gem_prime_import(), with force_different_devices set: attach and keep a reference of its own.
    private static I915GemObject? PrimeImport(DrmDevice dev, DmaBuffer dmaBuf, out int err)
    {
        DmaBufAttachment attach;
        I915GemObject obj;

        if (!s_forceDifferentDevices && dmaBuf.Exporter is I915DmabufExporter own && own.Obj.Dev == dev)
        {
            own.Obj.Get();
            err = 0;
            return own.Obj;
        }

        try
        {
            attach = dmaBuf.Attach(dev.Dev);
        }
        catch (DmaBufException e)
        {
            err = -e.Errno;
            return null;
        }

        obj = new I915GemObject(dev, dmaBuf.Size);
        obj.ImportAttach = attach;
        obj.ImportRef = Dma.GetDmaBuf(dmaBuf);
        err = 0;
        return obj;
    }

    // __i915_gem_object_get_pages(): 0 or a negative errno.
    private static int GetPages(I915GemObject obj)
    {
        obj.HasPages = true;
        return 0;
    }

    /// <summary>dma_resv_wait_timeout(dmabuf->resv, false, true, 5 * HZ): sleeps; the time left, 0 on timeout.</summary>
    [MightSleep]
    private static long ResvWaitTimeout(DmaBuffer dmabuf, long timeout) => timeout;

    public static int ImportSameDriver(DrmI915Private i915)
    {
        I915GemObject? obj;
        I915GemObject importObj;
        I915GemObject? import;
        DmaBuffer? dmabuf;
        DmaBufAttachment importAttach;
        ScatterGatherTable st;
        long timeout;
        int err;

        s_forceDifferentDevices = true;
        obj = CreateShmem(i915, DmaBuffer.PageSize);
        if (obj == null)
        {
            err = E.ENOMEM; // PTR_ERR(obj)
            goto out_ret;
        }

        dmabuf = PrimeExport(obj, 0, out err);
        if (dmabuf == null)
        {
            Log.Error("i915_gem_prime_export failed with err={0}", err);
            goto @out;
        }

        import = PrimeImport(i915.Drm, dmabuf, out err);
        if (import == null)
        {
            Log.Error("i915_gem_prime_import failed with err={0}", err);
            goto out_dmabuf;
        }

        importObj = import; // to_intel_bo(import)

        if (import == obj)
        {
            Log.Error("i915_gem_prime_import reused gem object!");
            err = E.EINVAL;
            goto out_import;
        }

        // i915_gem_object_lock(import_obj, NULL);
        err = GetPages(importObj);
        if (err != 0)
        {
            Log.Error("Different objects dma-buf get_pages failed!");
            // i915_gem_object_unlock(import_obj);
            goto out_import;
        }

        /*
         * If the exported object is not in system memory, something
         * weird is going on. TODO: When p2p is supported, this is no
         * longer considered weird.
         */
        if (!obj.InSystemMemory)
        {
            Log.Error("Exported dma-buf is not in system memory");
            err = E.EINVAL;
        }

        // i915_gem_object_unlock(import_obj);

        /* Now try a fake an importer */
        try
        {
            importAttach = dmabuf.Attach(obj.Dev.Dev);
        }
        catch (DmaBufException e)
        {
            err = -e.Errno;
            goto out_import;
        }

        try
        {
            st = dmabuf.MapAttachment(importAttach, DmaDataDirection.Bidirectional);
        }
        catch (DmaBufException e)
        {
            err = -e.Errno;
            goto out_detach;
        }

        timeout = ResvWaitTimeout(dmabuf, 5 * 100);
        if (timeout == 0)
        {
            Log.Error("dmabuf wait for exclusive fence timed out.");
            timeout = ETIME;
        }

        err = timeout > 0 ? 0 : (int)timeout;
        dmabuf.UnmapAttachment(importAttach, st);
    out_detach:
        dmabuf.Detach(importAttach);
    out_import:
        importObj.Put(); // i915_gem_object_put(import_obj)
    out_dmabuf:
        dmabuf.Put();
    @out:
        obj.Put();
    out_ret:
        s_forceDifferentDevices = false;
        return err;
    }
}
