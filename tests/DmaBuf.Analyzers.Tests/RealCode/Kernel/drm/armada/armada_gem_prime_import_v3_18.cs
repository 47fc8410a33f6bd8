// Kernel: drivers/gpu/drm/armada/armada_gem.c, armada_gem_prime_import(), v3.18
// Armada's PRIME import attaches but deliberately does NOT map ("it maps the scatterlist immediately for DMA, and
// this is not always an appropriate thing to do"): attach, allocate the private object (on failure detach and
// return), keep the attachment in obj.import_attach and take the object's own reference with get_dma_buf(), which
// the port keeps in the object. The mapping happens later, in armada_gem_map_import() (also ported), straight into
// dobj->sgt, with three early returns that leave the table in dobj->sgt for the object's release to unmap
// (armada_gem_free_object() does dma_buf_unmap_attachment(dobj->obj.import_attach, dobj->sgt, ...)).
// The exporter's "no kmap" callbacks return NULL. Correct: silent (the table lives in a field of the object).
using System;
using DmaBuf;

namespace Kernel.Drm.Armada.PrimeImport318;

internal sealed class DrmDevice
{
    public DrmDevice(Device dev) => Dev = dev;

    public Device Dev { get; }
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

    /// <summary>The reference get_dma_buf() took at import.</summary>
    public DmaBuffer? ImportRef { get; set; }

    public int Refs { get; private set; } = 1;

    public void Reference() => Refs++;
}

internal sealed class ArmadaGemObject
{
    public ArmadaGemObject(DrmGemObject obj) => Obj = obj;

    public DrmGemObject Obj { get; }

    public ScatterGatherTable? Sgt { get; set; }

    public ulong DevAddr { get; set; }
}

/// <summary>armada_gem_prime_dmabuf_ops: kmap, kmap_atomic, kunmap and kunmap_atomic are the "no_kmap" stubs.</summary>
internal sealed class ArmadaGemPrimeExporter : DmaBufExporter
{
    public ArmadaGemPrimeExporter(DrmGemObject obj) => Obj = obj;

    public DrmGemObject Obj { get; }

    protected override ScatterGatherTable MapDmaBuf(DmaBufAttachment attachment, DmaDataDirection direction) =>
        new ScatterGatherTable(new[] { new ScatterGatherEntry(0x1000_0000, Obj.Size) });

    protected override void UnmapDmaBuf(DmaBufAttachment attachment, ScatterGatherTable table)
    {
    }

    protected override void Release(DmaBuffer buffer)
    {
    }

    protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber) => 0; // armada_gem_dmabuf_no_kmap

    protected override void KunmapAtomic(DmaBuffer buffer, long pageNumber, nint address)
    {
    }

    protected override nint Kmap(DmaBuffer buffer, long pageNumber) => 0; // armada_gem_dmabuf_no_kmap

    protected override void Kunmap(DmaBuffer buffer, long pageNumber, nint address)
    {
    }
}

internal static class ArmadaGem
{
    // armada_gem_alloc_private_object(): kzalloc + drm_gem_private_object_init; NULL when out of memory.
    [MightSleep]
    private static ArmadaGemObject? AllocPrivateObject(DrmDevice dev, long size) =>
        size > 0 ? new ArmadaGemObject(new DrmGemObject(dev, size)) : null;

    public static DrmGemObject? PrimeImport(DrmDevice dev, DmaBuffer buf, out int err)
    {
        DmaBufAttachment attach;
        ArmadaGemObject? dobj;

        if (buf.Exporter is ArmadaGemPrimeExporter own)
        {
            DrmGemObject obj = own.Obj;
            if (obj.Dev == dev)
            {
                /*
                 * Importing our own dmabuf(s) increases the
                 * refcount on the gem object itself.
                 */
                obj.Reference();
                err = 0;
                return obj;
            }
        }

        try
        {
            attach = buf.Attach(dev.Dev);
        }
        catch (DmaBufException e)
        {
            err = -e.Errno; // ERR_CAST(attach)
            return null;
        }

        dobj = AllocPrivateObject(dev, buf.Size);
        if (dobj == null)
        {
            buf.Detach(attach);
            err = E.ENOMEM;
            return null;
        }

        dobj.Obj.ImportAttach = attach;
        dobj.Obj.ImportRef = Dma.GetDmaBuf(buf); // get_dma_buf(buf);

        /*
         * Don't call dma_buf_map_attachment() here - it maps the
         * scatterlist immediately for DMA, and this is not always
         * an appropriate thing to do.
         */
        err = 0;
        return dobj.Obj;
    }

    public static int MapImport(ArmadaGemObject dobj)
    {
        DmaBufAttachment importAttach = dobj.Obj.ImportAttach!;
        int ret;

        // dma_buf_map_attachment() returning NULL cannot happen with the runtime: it throws instead.
        try
        {
            dobj.Sgt = importAttach.Buffer.MapAttachment(importAttach, DmaDataDirection.ToDevice);
        }
        catch (DmaBufException e)
        {
            ret = -e.Errno;
            dobj.Sgt = null;
            Log.Error("dma_buf_map_attachment() error: {0}", ret);
            return ret;
        }

        if (dobj.Sgt.Entries.Count > 1)
        {
            Log.Error("dma_buf_map_attachment() returned an (unsupported) scattered list");
            return E.EINVAL;
        }

        if (dobj.Sgt.Entries[0].Length < dobj.Obj.Size)
        {
            Log.Error("dma_buf_map_attachment() returned a small buffer");
            return E.EINVAL;
        }

        dobj.DevAddr = dobj.Sgt.Entries[0].DmaAddress;
        return 0;
    }
}
