// Kernel: drivers/gpu/drm/drm_prime.c, drm_gem_prime_import(), torvalds/linux@011c2282c74d (v3.7)
// The core PRIME import helper: a buffer exported by this very device is returned as its GEM object with a GEM
// reference (no dma-buf reference); otherwise attach, take the object's own reference with get_dma_buf() (ported as
// Dma.GetDmaBuf into a local of its own, kept in the object), map the attachment and hand the table to the driver's
// gem_prime_import_sg_table callback, which keeps it in the object it builds. fail_unmap falls through into
// fail_detach, which detaches and puts the extra reference; fail_detach is also reached from the failed map.
// No caller here (see drm_gem_prime_fd_to_handle.cs for one). Correct: silent.
using System;
using DmaBuf;

namespace Kernel.Drm.PrimeImport;

internal sealed class DrmGemObject
{
    public DrmGemObject(DrmDevice dev, long size)
    {
        Dev = dev;
        Size = size;
    }

    public DrmDevice Dev { get; }

    public long Size { get; }

    public DmaBufAttachment? ImportAttach { get; set; }

    /// <summary>The reference get_dma_buf() took at import; drm_prime_gem_destroy() puts it through import_attach->dmabuf.</summary>
    public DmaBuffer? ImportRef { get; set; }

    public ScatterGatherTable? Sg { get; set; }

    public int Refs { get; private set; } = 1;

    public void Reference() => Refs++;

    public void UnreferenceUnlocked() => Refs--;
}

internal sealed class DrmDriver
{
    /// <summary>dev->driver->gem_prime_import_sg_table: the driver builds its object around the table (ERR_PTR is null).</summary>
    public Func<DrmDevice, long, ScatterGatherTable, DrmGemObject?>? GemPrimeImportSgTable { get; init; }
}

internal sealed class DrmDevice
{
    public DrmDevice(Device dev, DrmDriver driver)
    {
        Dev = dev;
        Driver = driver;
    }

    public Device Dev { get; }

    public DrmDriver Driver { get; }
}

// drm_gem_prime_dmabuf_ops (this version): the exporter of GEM objects; kmap and kmap_atomic return NULL.
internal sealed class DrmGemPrimeExporter : DmaBufExporter
{
    public DrmGemPrimeExporter(DrmGemObject obj) => Obj = obj;

    public DrmGemObject Obj { get; }

    protected override ScatterGatherTable MapDmaBuf(DmaBufAttachment attachment, DmaDataDirection direction) =>
        new ScatterGatherTable(new[] { new ScatterGatherEntry(0x300000, Obj.Size) });

    protected override void UnmapDmaBuf(DmaBufAttachment attachment, ScatterGatherTable table)
    {
    }

    protected override void Release(DmaBuffer buffer) => Obj.UnreferenceUnlocked();

    protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber) => 0;

    protected override nint Kmap(DmaBuffer buffer, long pageNumber) => 0;
}

internal static partial class DrmPrime
{
    // drm_gem_prime_import(): ERR_PTR returns are a null object with the errno in ret.
    public static DrmGemObject? GemPrimeImport(DrmDevice dev, DmaBuffer dmaBuf, out int ret)
    {
        DmaBufAttachment attach;
        ScatterGatherTable sgt;
        DrmGemObject? obj;
        DmaBuffer held;

        if (dev.Driver.GemPrimeImportSgTable == null)
        {
            ret = E.EINVAL;
            return null;
        }

        if (dmaBuf.Exporter is DrmGemPrimeExporter own)
        {
            obj = own.Obj;
            if (obj.Dev == dev)
            {
                /*
                 * Importing dmabuf exported from out own gem increases
                 * refcount on gem itself instead of f_count of dmabuf.
                 */
                obj.Reference();
                ret = 0;
                return obj;
            }
        }

        try
        {
            attach = dmaBuf.Attach(dev.Dev);
        }
        catch (DmaBufException e)
        {
            ret = -e.Errno;
            return null;
        }

        held = Dma.GetDmaBuf(dmaBuf);

        try
        {
            sgt = dmaBuf.MapAttachment(attach, DmaDataDirection.Bidirectional);
        }
        catch (DmaBufException e)
        {
            ret = -e.Errno;
            goto fail_detach;
        }

        obj = dev.Driver.GemPrimeImportSgTable(dev, dmaBuf.Size, sgt);
        if (obj == null)
        {
            ret = E.ENOMEM;
            goto fail_unmap;
        }

        obj.ImportAttach = attach;
        obj.ImportRef = held;

        ret = 0;
        return obj;

    fail_unmap:
        dmaBuf.UnmapAttachment(attach, sgt);
    fail_detach:
        dmaBuf.Detach(attach);
        held.Put();

        return null;
    }
}
