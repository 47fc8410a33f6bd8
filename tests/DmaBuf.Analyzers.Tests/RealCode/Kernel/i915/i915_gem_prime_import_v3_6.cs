// Kernel: drivers/gpu/drm/i915/i915_gem_dmabuf.c, i915_gem_prime_import(), v3.6
// The first i915 PRIME import, with the exporter side of the same file that it checks against:
// - i915_gem_prime_import(): an object of our own device is returned with a GEM reference; otherwise attach, map the
//   attachment right away, allocate and init the object, keep the table in obj->sg_table and the attachment in
//   obj->base.import_attach. fail_unmap is reached from two places (kzalloc failure, object-init failure), fail_detach
//   from the failed map and by falling through from fail_unmap. (This version takes no get_dma_buf(); the core added
//   the extra reference later. Not a rule of this project either way: the buffer is the caller's parameter.)
// - i915_gem_begin_cpu_access(): the exporter's begin_cpu_access takes struct_mutex (interruptible) and moves the
//   object to the CPU domain; it may sleep, which begin_cpu_access may. kmap/kmap_atomic return NULL in this version.
// Correct: silent.
using DmaBuf;

namespace Kernel.I915.PrimeImport36;

internal sealed class DrmDevice
{
    public DrmDevice(Device dev) => Dev = dev;

    public Device Dev { get; }

    public KMutex StructMutex { get; } = new KMutex();
}

internal sealed class DrmI915GemObject
{
    public DrmI915GemObject(DrmDevice dev) => Dev = dev;

    public DrmDevice Dev { get; }

    public long Size { get; private set; }

    public bool HasDmaMapping { get; set; }

    public ScatterGatherTable? SgTable { get; set; }

    public DmaBufAttachment? ImportAttach { get; set; }

    public int Refs { get; private set; } = 1;

    public void Reference() => Refs++;

    // drm_gem_private_object_init()
    public int PrivateObjectInit(long size)
    {
        if (size <= 0)
            return E.EINVAL;
        Size = size;
        return 0;
    }

    // i915_gem_object_set_to_cpu_domain()
    public int SetToCpuDomain(bool write) => 0;
}

// i915_dmabuf_ops (v3.6): kmap and kmap_atomic are not supported (NULL); begin_cpu_access flushes to the CPU domain.
internal sealed class I915DmabufExporter : DmaBufExporter
{
    public I915DmabufExporter(DrmI915GemObject obj) => Obj = obj;

    public DrmI915GemObject Obj { get; }

    protected override ScatterGatherTable MapDmaBuf(DmaBufAttachment attachment, DmaDataDirection direction)
    {
        Obj.Dev.StructMutex.Lock();
        try
        {
            return new ScatterGatherTable(new[] { new ScatterGatherEntry(0x200000, Obj.Size) });
        }
        finally
        {
            Obj.Dev.StructMutex.Unlock();
        }
    }

    protected override void UnmapDmaBuf(DmaBufAttachment attachment, ScatterGatherTable table)
    {
    }

    protected override void Release(DmaBuffer buffer)
    {
    }

    protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber) => 0;

    protected override void KunmapAtomic(DmaBuffer buffer, long pageNumber, nint address)
    {
    }

    protected override nint Kmap(DmaBuffer buffer, long pageNumber) => 0;

    protected override void Kunmap(DmaBuffer buffer, long pageNumber, nint address)
    {
    }

    protected override void BeginCpuAccess(DmaBuffer buffer, long start, long length, DmaDataDirection direction)
    {
        DrmDevice dev = Obj.Dev;
        int ret;
        bool write = direction == DmaDataDirection.Bidirectional || direction == DmaDataDirection.ToDevice;

        dev.StructMutex.Lock(); // i915_mutex_lock_interruptible()

        ret = Obj.SetToCpuDomain(write);
        dev.StructMutex.Unlock();
        if (ret != 0)
            throw new DmaBufException(-ret, "i915_gem_begin_cpu_access");
    }
}

internal static class I915GemDmabuf
{
    // kzalloc(sizeof(*obj), GFP_KERNEL): may sleep; NULL when out of memory.
    [MightSleep]
    private static DrmI915GemObject? Kzalloc(DrmDevice dev) => new DrmI915GemObject(dev);

    public static DrmI915GemObject? PrimeImport(DrmDevice dev, DmaBuffer dmaBuf, out int ret)
    {
        DmaBufAttachment attach;
        ScatterGatherTable sg;
        DrmI915GemObject? obj;

        /* is this one of own objects? */
        if (dmaBuf.Exporter is I915DmabufExporter own)
        {
            obj = own.Obj;
            /* is it from our device? */
            if (obj.Dev == dev)
            {
                obj.Reference();
                ret = 0;
                return obj;
            }
        }

        /* need to attach */
        try
        {
            attach = dmaBuf.Attach(dev.Dev);
        }
        catch (DmaBufException e)
        {
            ret = -e.Errno;
            return null;
        }

        try
        {
            sg = dmaBuf.MapAttachment(attach, DmaDataDirection.Bidirectional);
        }
        catch (DmaBufException e)
        {
            ret = -e.Errno;
            goto fail_detach;
        }

        obj = Kzalloc(dev);
        if (obj == null)
        {
            ret = E.ENOMEM;
            goto fail_unmap;
        }

        ret = obj.PrivateObjectInit(dmaBuf.Size);
        if (ret != 0)
        {
            // kfree(obj);
            goto fail_unmap;
        }

        obj.HasDmaMapping = true;
        obj.SgTable = sg;
        obj.ImportAttach = attach;

        return obj;

    fail_unmap:
        dmaBuf.UnmapAttachment(attach, sg);
    fail_detach:
        dmaBuf.Detach(attach);
        return null;
    }
}
