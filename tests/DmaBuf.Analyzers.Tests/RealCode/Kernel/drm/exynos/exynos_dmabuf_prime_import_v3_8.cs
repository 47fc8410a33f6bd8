// Kernel: drivers/gpu/drm/exynos/exynos_drm_dmabuf.c, exynos_dmabuf_prime_import(), v3.8
// Exynos' PRIME import: a buffer it exported itself is returned as its own GEM object; otherwise attach, take the
// object's reference with get_dma_buf() (Dma.GetDmaBuf into a local of its own, kept in the object), map the
// attachment into a LOCAL sgt, allocate the exynos_drm_gem_buf and the GEM object, and keep the table in the buffer.
// The three-step unwinding ladder: err_free_buffer (object init failed) falls into err_unmap_attach (the kzalloc of
// the buffer failed), which falls into err_buf_detach (the map failed): unmap, detach, put, in that order.
// Also ported: the exporter's callbacks of that version (attach keeps a per-attachment table, map_dma_buf takes the
// device's struct_mutex, kmap/kmap_atomic are TODO stubs returning NULL). Correct: silent.
using System.Collections.Generic;
using DmaBuf;

namespace Kernel.Drm.Exynos.PrimeImport38;

internal sealed class DrmDevice
{
    public DrmDevice(Device dev) => Dev = dev;

    public Device Dev { get; }

    public KMutex StructMutex { get; } = new KMutex();
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

    /// <summary>The reference get_dma_buf() took at import (put by drm_prime_gem_destroy()).</summary>
    public DmaBuffer? ImportRef { get; set; }

    public int Refs { get; private set; } = 1;

    public void Reference() => Refs++;
}

internal sealed class ExynosDrmGemBuf
{
    public long Size { get; set; }

    public ulong DmaAddr { get; set; }

    public ScatterGatherTable? Sgt { get; set; }
}

internal sealed class ExynosDrmGemObj
{
    public const uint ExynosBoContig = 0;
    public const uint ExynosBoNoncontig = 1;

    public ExynosDrmGemObj(DrmGemObject @base) => Base = @base;

    public DrmGemObject Base { get; }

    public ExynosDrmGemBuf? Buffer { get; set; }

    public uint Flags { get; set; }
}

/// <summary>struct exynos_drm_dmabuf_attachment: the per-attachment table the exporter hands out once.</summary>
internal sealed class ExynosDrmDmabufAttachment
{
    public ScatterGatherTable? Sgt;
    public DmaDataDirection Dir = DmaDataDirection.None;
    public bool IsMapped;
}

internal sealed class ExynosDmabufExporter : DmaBufExporter
{
    public ExynosDmabufExporter(ExynosDrmGemObj gemObj) => GemObj = gemObj;

    public ExynosDrmGemObj GemObj { get; }

    protected override void Attach(DmaBufAttachment attachment) =>
        attachment.ExporterData = new ExynosDrmDmabufAttachment();

    protected override void Detach(DmaBufAttachment attachment) => attachment.ExporterData = null;

    protected override ScatterGatherTable MapDmaBuf(DmaBufAttachment attachment, DmaDataDirection direction)
    {
        var exynosAttach = (ExynosDrmDmabufAttachment)attachment.ExporterData!;
        DrmDevice dev = GemObj.Base.Dev;
        ExynosDrmGemBuf? buf;

        /* just return current sgt if already requested. */
        if (exynosAttach.Dir == direction && exynosAttach.IsMapped)
            return exynosAttach.Sgt!;

        buf = GemObj.Buffer;
        if (buf == null)
            throw new DmaBufException(Errno.ENOMEM, "buffer is null.");

        dev.StructMutex.Lock();
        exynosAttach.Sgt = new ScatterGatherTable(new[] { new ScatterGatherEntry(buf.DmaAddr, buf.Size) });
        exynosAttach.IsMapped = true;
        exynosAttach.Dir = direction;
        dev.StructMutex.Unlock();
        return exynosAttach.Sgt;
    }

    protected override void UnmapDmaBuf(DmaBufAttachment attachment, ScatterGatherTable table)
    {
        /* Nothing to do. */
    }

    protected override void Release(DmaBuffer buffer)
    {
    }

    protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber) => 0; /* TODO */

    protected override void KunmapAtomic(DmaBuffer buffer, long pageNumber, nint address)
    {
        /* TODO */
    }

    protected override nint Kmap(DmaBuffer buffer, long pageNumber) => 0; /* TODO */

    protected override void Kunmap(DmaBuffer buffer, long pageNumber, nint address)
    {
        /* TODO */
    }
}

internal static class ExynosDrmDmabuf
{
    // exynos_drm_gem_init(): allocates and initialises the GEM object; NULL on failure.
    [MightSleep]
    private static ExynosDrmGemObj? GemInit(DrmDevice drmDev, long size) =>
        size > 0 ? new ExynosDrmGemObj(new DrmGemObject(drmDev, size)) : null;

    public static DrmGemObject? PrimeImport(DrmDevice drmDev, DmaBuffer dmaBuf, out int err)
    {
        DmaBufAttachment attach;
        DmaBuffer extra;
        ScatterGatherTable sgt;
        ScatterGatherEntry sgl;
        ExynosDrmGemObj? exynosGemObj;
        ExynosDrmGemBuf? buffer;
        int ret;

        Log.Debug("{0}", "exynos_drm_dmabuf.c");

        /* is this one of own objects? */
        if (dmaBuf.Exporter is ExynosDmabufExporter own)
        {
            DrmGemObject obj;

            exynosGemObj = own.GemObj;
            obj = exynosGemObj.Base;

            /* is it from our device? */
            if (obj.Dev == drmDev)
            {
                /*
                 * Importing dmabuf exported from out own gem increases
                 * refcount on gem itself instead of f_count of dmabuf.
                 */
                obj.Reference();
                err = 0;
                return obj;
            }
        }

        try
        {
            attach = dmaBuf.Attach(drmDev.Dev);
        }
        catch (DmaBufException)
        {
            err = E.EINVAL;
            return null;
        }

        extra = Dma.GetDmaBuf(dmaBuf); // get_dma_buf(dma_buf);

        try
        {
            sgt = dmaBuf.MapAttachment(attach, DmaDataDirection.Bidirectional);
        }
        catch (DmaBufException e)
        {
            ret = -e.Errno;
            goto err_buf_detach;
        }

        buffer = Uaccess.Kzalloc<ExynosDrmGemBuf>();
        if (buffer == null)
        {
            Log.Error("failed to allocate exynos_drm_gem_buf.");
            ret = E.ENOMEM;
            goto err_unmap_attach;
        }

        exynosGemObj = GemInit(drmDev, dmaBuf.Size);
        if (exynosGemObj == null)
        {
            ret = E.ENOMEM;
            goto err_free_buffer;
        }

        sgl = sgt.Entries[0];

        buffer.Size = dmaBuf.Size;
        buffer.DmaAddr = sgl.DmaAddress;

        if (sgt.Entries.Count == 1)
        {
            /* always physically continuous memory if sgt->nents is 1. */
            exynosGemObj.Flags |= ExynosDrmGemObj.ExynosBoContig;
        }
        else
        {
            /*
             * this case could be CONTIG or NONCONTIG type but for now
             * sets NONCONTIG.
             */
            exynosGemObj.Flags |= ExynosDrmGemObj.ExynosBoNoncontig;
        }

        exynosGemObj.Buffer = buffer;
        buffer.Sgt = sgt;
        exynosGemObj.Base.ImportAttach = attach;
        exynosGemObj.Base.ImportRef = extra;

        Log.Debug("dma_addr = 0x{0:x}, size = 0x{1:x}", buffer.DmaAddr, buffer.Size);

        err = 0;
        return exynosGemObj.Base;

    err_free_buffer:
        // kfree(buffer);
        buffer = null;
    err_unmap_attach:
        dmaBuf.UnmapAttachment(attach, sgt);
    err_buf_detach:
        dmaBuf.Detach(attach);
        extra.Put(); // dma_buf_put(dma_buf);

        err = ret;
        return null;
    }
}
