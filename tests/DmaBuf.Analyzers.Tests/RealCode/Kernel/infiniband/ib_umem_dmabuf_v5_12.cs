// Kernel: drivers/infiniband/core/umem_dmabuf.c, ib_umem_dmabuf_get(), v5.12
// RDMA memory registration of a dma-buf (dynamic attachment): ib_umem_dmabuf_get() takes a reference with
// dma_buf_get(fd), checks the size, allocates the umem, attaches (dma_buf_dynamic_attach, ported as Attach) and keeps
// the attachment in umem_dmabuf->attach; the reference is then held through attach->dmabuf until
// ib_umem_dmabuf_release() detaches and puts it. The two failures after the get unwind through out_free_umem and
// out_release_dmabuf. ib_umem_dmabuf_map_pages() maps the attachment into umem_dmabuf->sgt unless it is already
// mapped (`goto wait_fence`, forward past the map), and ib_umem_dmabuf_unmap_pages() unmaps it.
// All four functions are ported, with a caller (the mlx5 registration path, reduced to the calls). Correct: silent.
using System;
using DmaBuf;

namespace Kernel.Infiniband.UmemDmabuf512;

internal sealed class IbDevice
{
    public IbDevice(Device dmaDevice) => DmaDevice = dmaDevice;

    public Device DmaDevice { get; }
}

internal sealed class IbUmem
{
    public IbDevice? Ibdev;
    public long Length;
    public ulong Address;
    public bool Writable;
    public bool IsDmabuf;
}

internal sealed class IbUmemDmabuf
{
    public IbUmem Umem { get; } = new IbUmem();

    public DmaBufAttachment? Attach;

    public ScatterGatherTable? Sgt;
}

internal static class UmemDmabuf
{
    private const int IB_ACCESS_LOCAL_WRITE = 1;

    private static long NumPages(IbUmem umem) =>
        ((long)(umem.Address + (ulong)umem.Length + DmaBuffer.PageSize - 1) / DmaBuffer.PageSize) - ((long)umem.Address / DmaBuffer.PageSize);

    public static IbUmemDmabuf? Get(IbDevice device, ulong offset, long size, int fd, int access, out int err)
    {
        DmaBuffer dmabuf;
        IbUmemDmabuf? umemDmabuf;
        IbUmem umem;
        ulong end;
        int ret = E.EINVAL;

        end = offset + (ulong)size;
        if (end < offset) // check_add_overflow
        {
            err = ret;
            return null;
        }

        try
        {
            dmabuf = DmaBuffer.Get(fd);
        }
        catch (ArgumentException)
        {
            err = -Errno.EBADF; // ERR_CAST(dmabuf)
            return null;
        }

        if ((ulong)dmabuf.Size < end)
            goto out_release_dmabuf;

        umemDmabuf = Uaccess.Kzalloc<IbUmemDmabuf>();
        if (umemDmabuf == null)
        {
            ret = E.ENOMEM;
            goto out_release_dmabuf;
        }

        umem = umemDmabuf.Umem;
        umem.Ibdev = device;
        umem.Length = size;
        umem.Address = offset;
        umem.Writable = (access & IB_ACCESS_LOCAL_WRITE) != 0;
        umem.IsDmabuf = true;

        if (NumPages(umem) == 0)
            goto out_free_umem;

        try
        {
            umemDmabuf.Attach = dmabuf.Attach(device.DmaDevice); // dma_buf_dynamic_attach(dmabuf, ..., ops, umem_dmabuf)
        }
        catch (DmaBufException e)
        {
            ret = -e.Errno;
            goto out_free_umem;
        }

        err = 0;
        return umemDmabuf;

    out_free_umem:
        // kfree(umem_dmabuf);
        umemDmabuf = null;

    out_release_dmabuf:
        dmabuf.Put();
        err = ret;
        return null;
    }

    public static int MapPages(IbUmemDmabuf umemDmabuf)
    {
        ScatterGatherTable sgt;
        DmaBufAttachment attach = umemDmabuf.Attach!;

        // dma_resv_assert_held(umem_dmabuf->attach->dmabuf->resv);

        if (umemDmabuf.Sgt != null)
            goto wait_fence;

        try
        {
            sgt = attach.Buffer.MapAttachment(attach, DmaDataDirection.Bidirectional);
        }
        catch (DmaBufException e)
        {
            return -e.Errno;
        }

        /* modify the sg list in-place to match umem address and length */
        umemDmabuf.Sgt = sgt;

    wait_fence:
        /*
         * Although the sg list is valid now, the content of the pages
         * may be not up-to-date. Wait for the exporter to finish
         * the migration.
         */
        return 0;
    }

    public static void UnmapPages(IbUmemDmabuf umemDmabuf)
    {
        DmaBufAttachment attach = umemDmabuf.Attach!;

        if (umemDmabuf.Sgt == null)
            return;

        /* retore the original sg list */
        attach.Buffer.UnmapAttachment(attach, umemDmabuf.Sgt);
        umemDmabuf.Sgt = null;
    }

    public static void Release(IbUmemDmabuf umemDmabuf)
    {
        DmaBufAttachment attach = umemDmabuf.Attach!;
        DmaBuffer dmabuf = attach.Buffer;

        dmabuf.Detach(attach);
        dmabuf.Put();
        // kfree(umem_dmabuf);
    }
}

internal static class Mlx5Mr
{
    // mlx5_ib_reg_user_mr_dmabuf(), reduced to its calls of the umem_dmabuf API.
    public static int RegUserMrDmabuf(IbDevice device, ulong offset, long length, int fd, int access)
    {
        IbUmemDmabuf? umemDmabuf;
        int err;

        umemDmabuf = UmemDmabuf.Get(device, offset, length, fd, access, out err);
        if (umemDmabuf == null)
            return err;

        err = UmemDmabuf.MapPages(umemDmabuf);
        if (err != 0)
        {
            UmemDmabuf.Release(umemDmabuf);
            return err;
        }

        UmemDmabuf.UnmapPages(umemDmabuf);
        UmemDmabuf.Release(umemDmabuf);
        return 0;
    }
}
