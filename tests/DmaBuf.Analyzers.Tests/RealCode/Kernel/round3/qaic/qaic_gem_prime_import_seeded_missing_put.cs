// Kernel: drivers/accel/qaic/qaic_data.c, qaic_gem_prime_import(), v6.4 (seeded)
// A copy of the v6.4 port (see qaic_gem_prime_import_v6_4.cs) with ONE seeded bug, a jump past the rung that puts:
// the failed dma_buf_attach() goes to `out` (out_err) instead of attach_fail, so the reference get_dma_buf() took
// just before is neither put nor kept in the object on that path (DMA0010 at the return after out_err:). The size
// check still unwinds through size_align_fail and attach_fail, and success keeps the reference in the object.
using System;
using DmaBuf;

namespace Kernel.Round3.Qaic.PrimeImportSeeded;

internal sealed class DrmDevice
{
    public DrmDevice(Device dev) => Dev = dev;

    public Device Dev { get; }
}

internal sealed class DrmGemObject
{
    public DrmDevice? Dev;
    public long Size;
    public DmaBufAttachment? ImportAttach;

    /// <summary>The reference get_dma_buf() took at import; drm_prime_gem_destroy() puts it through import_attach->dmabuf.</summary>
    public DmaBuffer? ImportRef;

    public object? Resv;
}

internal sealed class QaicBo
{
    public DrmGemObject Base { get; } = new DrmGemObject();

    public ScatterGatherTable? Sgt;
}

internal static class QaicData
{
    private static long PageAlign(long size) => (size + DmaBuffer.PageSize - 1) / DmaBuffer.PageSize * DmaBuffer.PageSize;

    // qaic_alloc_init_bo(): kzalloc the bo and init its lists and completion; ERR_PTR(-ENOMEM) is null.
    [MightSleep]
    private static QaicBo? AllocInitBo() => new QaicBo();

    private static void DrmGemPrivateObjectInit(DrmDevice dev, DrmGemObject obj, long size)
    {
        obj.Dev = dev;
        obj.Size = size;
    }

    // ERR_PTR returns are a null object with the errno in err.
    public static DrmGemObject? GemPrimeImport(DrmDevice dev, DmaBuffer dmaBuf, out int err)
    {
        DmaBufAttachment attach;
        DrmGemObject obj;
        QaicBo? bo;
        DmaBuffer held;
        long size;
        int ret;

        bo = AllocInitBo();
        if (bo == null)
        {
            ret = E.ENOMEM;
            goto out_err;
        }

        obj = bo.Base;
        held = Dma.GetDmaBuf(dmaBuf);

        try
        {
            attach = dmaBuf.Attach(dev.Dev);
        }
        catch (DmaBufException e)
        {
            ret = -e.Errno;
            goto out_err; // seeded: was `goto attach_fail;`
        }

        size = PageAlign(attach.Buffer.Size);
        if (size == 0)
        {
            ret = E.EINVAL;
            goto size_align_fail;
        }

        DrmGemPrivateObjectInit(dev, obj, size);
        /*
         * skipping dma_buf_map_attachment() as we do not know the direction
         * just yet. Once the direction is known in the subsequent IOCTL to
         * attach slicing, we can do it then.
         */

        // obj->funcs = &qaic_gem_funcs;
        obj.ImportAttach = attach;
        obj.ImportRef = held;
        obj.Resv = dmaBuf; // obj->resv = dma_buf->resv

        err = 0;
        return obj;

    size_align_fail:
        dmaBuf.Detach(attach);
    attach_fail:
        held.Put();
        // kfree(bo);
    out_err:
        err = ret;
        return null; // expect: DMA0010
    }

    // qaic_free_object(), DMABUF/PRIME path: drm_prime_gem_destroy(obj, NULL).
    public static void FreeObject(QaicBo bo)
    {
        DrmGemObject obj = bo.Base;

        if (obj.ImportAttach != null)
        {
            /* DMABUF/PRIME Path */
            DmaBufAttachment attach = obj.ImportAttach;
            DmaBuffer dmaBuf = obj.ImportRef!;
            dmaBuf.Detach(attach);
            dmaBuf.Put();
        }
        else
        {
            /* Private buffer allocation path */
            bo.Sgt = null; // qaic_free_sgt(bo->sgt)
        }
    }
}
