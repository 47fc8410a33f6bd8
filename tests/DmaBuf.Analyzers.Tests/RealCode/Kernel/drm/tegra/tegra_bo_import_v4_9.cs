// Kernel: drivers/gpu/drm/tegra/gem.c, tegra_bo_import(), v4.9
// Tegra's PRIME import of a foreign buffer: allocate the buffer object, attach the drm device, take the object's own
// reference with get_dma_buf() (ported as Dma.GetDmaBuf into a local of its own; kept in the GEM object, where the
// kernel keeps it implicitly behind import_attach), map the attachment straight into bo->sgt, then either map the
// table through the IOMMU domain or insist on a single contiguous segment. Every failure after the attach jumps to
// detach:, which unmaps only if bo->sgt was set (IS_ERR_OR_NULL), detaches and puts, then falls into free:.
// The table lives in bo->sgt (a property of the object) from the moment it is mapped. Also ported: the exporter's
// kmap callbacks (all return NULL, "not supported") and tegra_gem_prime_import(), which calls tegra_bo_import().
// Correct: silent.
using System.Collections.Generic;
using DmaBuf;

namespace Kernel.Drm.Tegra.BoImport;

internal sealed class TegraDrm
{
    /// <summary>tegra->domain: the IOMMU domain, or null when the device maps physically contiguous memory only.</summary>
    public object? Domain { get; set; }
}

internal sealed class DrmDevice
{
    public DrmDevice(Device dev, TegraDrm tegra)
    {
        Dev = dev;
        DevPrivate = tegra;
    }

    public Device Dev { get; }

    public TegraDrm DevPrivate { get; }
}

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

    /// <summary>The reference get_dma_buf() took at import; drm_prime_gem_destroy() puts it.</summary>
    public DmaBuffer? ImportRef { get; set; }

    public int Refs { get; private set; } = 1;

    public void Reference() => Refs++;
}

internal sealed class TegraBo
{
    public TegraBo(DrmGemObject gem) => Gem = gem;

    public DrmGemObject Gem { get; }

    public ScatterGatherTable? Sgt { get; set; }

    public ulong Paddr { get; set; }
}

/// <summary>tegra_gem_prime_dmabuf_ops: kmap and kmap_atomic are not supported and return NULL.</summary>
internal sealed class TegraGemPrimeExporter : DmaBufExporter
{
    public TegraGemPrimeExporter(DrmGemObject gem) => Gem = gem;

    public DrmGemObject Gem { get; }

    protected override ScatterGatherTable MapDmaBuf(DmaBufAttachment attachment, DmaDataDirection direction) =>
        new ScatterGatherTable(new[] { new ScatterGatherEntry(0x8000_0000, Gem.Size) });

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
}

internal static class TegraGem
{
    // tegra_bo_alloc_object(): kzalloc + drm_gem_object_init + drm_gem_create_mmap_offset; may sleep.
    [MightSleep]
    private static TegraBo? BoAllocObject(DrmDevice drm, long size) => size > 0 ? new TegraBo(new DrmGemObject(drm, size)) : null;

    // tegra_bo_iommu_map(): iommu_map_sg() of the table into the domain; negative errno on failure.
    private static int BoIommuMap(TegraDrm tegra, TegraBo bo) => bo.Sgt!.TotalLength > 0 ? 0 : E.ENOMEM;

    private static TegraBo? BoImport(DrmDevice drm, DmaBuffer buf, out int errOut)
    {
        TegraDrm tegra = drm.DevPrivate;
        DmaBufAttachment attach;
        DmaBuffer extra;
        TegraBo? bo;
        int err;

        bo = BoAllocObject(drm, buf.Size);
        if (bo == null)
        {
            errOut = E.ENOMEM;
            return null;
        }

        try
        {
            attach = buf.Attach(drm.Dev);
        }
        catch (DmaBufException e)
        {
            err = -e.Errno;
            goto free;
        }

        extra = Dma.GetDmaBuf(buf); // get_dma_buf(buf);

        try
        {
            bo.Sgt = buf.MapAttachment(attach, DmaDataDirection.ToDevice);
        }
        catch (DmaBufException e)
        {
            err = -e.Errno;
            goto detach;
        }

        if (tegra.Domain != null)
        {
            err = BoIommuMap(tegra, bo);
            if (err < 0)
                goto detach;
        }
        else
        {
            if (bo.Sgt.Entries.Count > 1)
            {
                err = E.EINVAL;
                goto detach;
            }

            bo.Paddr = bo.Sgt.Entries[0].DmaAddress;
        }

        bo.Gem.ImportAttach = attach;
        bo.Gem.ImportRef = extra;

        errOut = 0;
        return bo;

    detach:
        if (bo.Sgt != null)
            buf.UnmapAttachment(attach, bo.Sgt);

        buf.Detach(attach);
        extra.Put(); // dma_buf_put(buf);
    free:
        // drm_gem_object_release(&bo->gem); kfree(bo);
        errOut = err;
        return null;
    }

    public static DrmGemObject? PrimeImport(DrmDevice drm, DmaBuffer buf, out int err)
    {
        TegraBo? bo;

        if (buf.Exporter is TegraGemPrimeExporter own)
        {
            DrmGemObject gem = own.Gem;

            if (gem.Dev == drm)
            {
                gem.Reference();
                err = 0;
                return gem;
            }
        }

        bo = BoImport(drm, buf, out err);
        if (bo == null)
            return null;

        return bo.Gem;
    }
}
