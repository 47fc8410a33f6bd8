// Kernel: drivers/gpu/drm/udl/udl_dmabuf.c, udl_gem_prime_import(), v4.15
// The DisplayLink PRIME import with the helpers it reaches in the same driver: udl_prime_create() (builds the GEM
// object and keeps the table in obj->sg), udl_gem_free_object() (udl_gem.c) and the core's drm_prime_gem_destroy()
// (drm_prime.c), which unmaps the kept table, detaches and puts the reference the import took.
// The import attaches, takes its own reference with get_dma_buf() (ported as Dma.GetDmaBuf into a local of its own,
// kept in the object for drm_prime_gem_destroy, which in the kernel finds it again through import_attach->dmabuf),
// maps, and unwinds through fail_unmap/fail_detach. udl_prime_create() stores the table before its second
// allocation can fail, and the import's fail_unmap still unmaps it (the object, not the table, is what leaks there).
// Correct: silent.
using DmaBuf;

namespace Kernel.Udl.PrimeImport;

internal sealed class DrmDevice
{
    public DrmDevice(Device dev) => Dev = dev;

    public Device Dev { get; }

    public int DeviceRefs { get; set; }
}

internal sealed class UdlGemObject
{
    public UdlGemObject(DrmDevice dev, long size)
    {
        Dev = dev;
        Size = size;
    }

    public DrmDevice Dev { get; }

    public long Size { get; }

    public DmaBufAttachment? ImportAttach { get; set; }

    public DmaBuffer? ImportRef { get; set; }

    public ScatterGatherTable? Sg { get; set; }

    public object[]? Pages { get; set; }

    public byte[]? Vmapping { get; set; }

    public int Flags { get; set; }
}

internal static class UdlDmabuf
{
    private const int UdlBoWc = 1 << 1;

    private static int UdlPrimeCreate(DrmDevice dev, long size, ScatterGatherTable sg, out UdlGemObject? objP)
    {
        UdlGemObject? obj;
        long npages;

        npages = size / DmaBuffer.PageSize;

        objP = null;
        obj = new UdlGemObject(dev, npages * DmaBuffer.PageSize); // udl_gem_alloc_object()

        obj.Sg = sg;
        obj.Pages = npages > int.MaxValue ? null : new object[npages]; // kvmalloc_array()
        if (obj.Pages == null)
        {
            Log.Error("obj pages is NULL {0}", npages);
            return E.ENOMEM;
        }

        // drm_prime_sg_to_page_addr_arrays(sg, obj->pages, NULL, npages);
        objP = obj;
        return 0;
    }

    public static UdlGemObject? GemPrimeImport(DrmDevice dev, DmaBuffer dmaBuf, out int err)
    {
        DmaBufAttachment attach;
        ScatterGatherTable sg;
        DmaBuffer held;
        UdlGemObject? uobj;
        int ret;

        /* need to attach */
        dev.DeviceRefs++; // get_device()
        try
        {
            attach = dmaBuf.Attach(dev.Dev);
        }
        catch (DmaBufException e)
        {
            dev.DeviceRefs--; // put_device()
            err = -e.Errno;
            return null;
        }

        held = Dma.GetDmaBuf(dmaBuf);

        try
        {
            sg = dmaBuf.MapAttachment(attach, DmaDataDirection.Bidirectional);
        }
        catch (DmaBufException e)
        {
            ret = -e.Errno;
            goto fail_detach;
        }

        ret = UdlPrimeCreate(dev, dmaBuf.Size, sg, out uobj);
        if (ret != 0)
            goto fail_unmap;

        uobj!.ImportAttach = attach;
        uobj.ImportRef = held;
        uobj.Flags = UdlBoWc;

        err = 0;
        return uobj;

    fail_unmap:
        dmaBuf.UnmapAttachment(attach, sg);
    fail_detach:
        dmaBuf.Detach(attach);
        held.Put();
        dev.DeviceRefs--; // put_device()
        err = ret;
        return null;
    }

    // drm_prime_gem_destroy() (drivers/gpu/drm/drm_prime.c): the driver's free path for an imported object.
    public static void PrimeGemDestroy(UdlGemObject obj, ScatterGatherTable? sg)
    {
        DmaBufAttachment attach;
        DmaBuffer dmaBuf;

        attach = obj.ImportAttach!;
        if (sg != null)
            attach.Buffer.UnmapAttachment(attach, sg);
        dmaBuf = attach.Buffer;
        attach.Buffer.Detach(attach);
        /* remove the reference */
        dmaBuf.Put();
    }

    // udl_gem_free_object() (drivers/gpu/drm/udl/udl_gem.c).
    public static void GemFreeObject(UdlGemObject obj)
    {
        if (obj.Vmapping != null)
            obj.Vmapping = null; // udl_gem_vunmap(): dma_buf_vunmap() for an imported object; no vmap in this runtime

        if (obj.ImportAttach != null)
        {
            PrimeGemDestroy(obj, obj.Sg);
            obj.Dev.DeviceRefs--; // put_device()
        }

        if (obj.Pages != null)
            obj.Pages = null; // udl_gem_put_pages()
    }
}
