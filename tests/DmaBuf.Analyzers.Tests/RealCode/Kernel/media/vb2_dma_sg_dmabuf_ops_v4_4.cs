// Kernel: drivers/media/v4l2-core/videobuf2-dma-sg.c, vb2_dma_sg_map_dmabuf(), v4.4
// The DMABUF memops of videobuf2's scatter-gather allocator: attach_dmabuf attaches the queue's device and keeps the
// attachment in buf->db_attach (kfree and return on failure); map_dmabuf maps it into a LOCAL sgt and then keeps it in
// buf->dma_sgt (returning -EINVAL on failure, 0 with a warning if already pinned); unmap_dmabuf takes the table back
// from buf->dma_sgt and unmaps it (vunmapping first if vaddr was set); detach_dmabuf unmaps a still-mapped buffer
// through unmap_dmabuf ("you should never detach mapped buffer") and detaches. The vb2 core calls them through the
// memops table; a reduced caller (__vb2_plane_dmabuf_put() and the map step of __qbuf_dmabuf()) calls them directly.
// dma_buf_vunmap() is a stand-in (the runtime has no vmap). Correct: silent.
using System;
using DmaBuf;

namespace Kernel.Media.Vb2DmaSg44;

internal sealed class Vb2DmaSgConf
{
    public Vb2DmaSgConf(Device dev) => Dev = dev;

    public Device Dev { get; }
}

internal sealed class Vb2DmaSgBuf
{
    public Device? Dev;
    public byte[]? Vaddr;
    public DmaDataDirection DmaDir;
    public long Size;
    public DmaBufAttachment? DbAttach;
    public ScatterGatherTable? DmaSgt;
}

internal static class Vmap
{
    public static void Unmap(DmaBuffer buffer, byte[] vaddr)
    {
    }
}

internal static class Vb2DmaSg
{
    private static void Warn(string message) => Log.Error("{0}", message);

    public static int MapDmabuf(Vb2DmaSgBuf buf)
    {
        ScatterGatherTable sgt;

        if (buf.DbAttach == null)
        {
            Warn("trying to pin a non attached buffer");
            return E.EINVAL;
        }

        if (buf.DmaSgt != null)
        {
            Warn("dmabuf buffer is already pinned");
            return 0;
        }

        /* get the associated scatterlist for this buffer */
        try
        {
            sgt = buf.DbAttach.Buffer.MapAttachment(buf.DbAttach, buf.DmaDir);
        }
        catch (DmaBufException)
        {
            Warn("Error getting dmabuf scatterlist");
            return E.EINVAL;
        }

        buf.DmaSgt = sgt;
        buf.Vaddr = null;

        return 0;
    }

    public static void UnmapDmabuf(Vb2DmaSgBuf buf)
    {
        ScatterGatherTable? sgt = buf.DmaSgt;

        if (buf.DbAttach == null)
        {
            Warn("trying to unpin a not attached buffer");
            return;
        }

        if (sgt == null)
        {
            Warn("dmabuf buffer is already unpinned");
            return;
        }

        if (buf.Vaddr != null)
        {
            Vmap.Unmap(buf.DbAttach.Buffer, buf.Vaddr);
            buf.Vaddr = null;
        }

        buf.DbAttach.Buffer.UnmapAttachment(buf.DbAttach, sgt);

        buf.DmaSgt = null;
    }

    public static void DetachDmabuf(Vb2DmaSgBuf buf)
    {
        /* if vb2 works correctly you should never detach mapped buffer */
        if (buf.DmaSgt != null)
            UnmapDmabuf(buf);

        /* detach this attachment */
        buf.DbAttach!.Buffer.Detach(buf.DbAttach);
        // kfree(buf);
    }

    public static Vb2DmaSgBuf? AttachDmabuf(Vb2DmaSgConf conf, DmaBuffer dbuf, long size, DmaDataDirection dmaDir, out int err)
    {
        Vb2DmaSgBuf? buf;
        DmaBufAttachment dba;

        if (dbuf.Size < size)
        {
            err = E.EFAULT;
            return null;
        }

        buf = Uaccess.Kzalloc<Vb2DmaSgBuf>();
        if (buf == null)
        {
            err = E.ENOMEM;
            return null;
        }

        buf.Dev = conf.Dev;
        /* create attachment for the dmabuf with the user device */
        try
        {
            dba = dbuf.Attach(buf.Dev);
        }
        catch (DmaBufException e)
        {
            Warn("failed to attach dmabuf");
            // kfree(buf);
            err = -e.Errno;
            return null;
        }

        buf.DmaDir = dmaDir;
        buf.Size = size;
        buf.DbAttach = dba;

        err = 0;
        return buf;
    }
}

internal static class Vb2Core
{
    // The plane's part of __qbuf_dmabuf(): attach, then map; on a map failure the plane is released again.
    public static int AcquirePlane(Vb2DmaSgConf conf, DmaBuffer dbuf, long length, DmaDataDirection dir, out Vb2DmaSgBuf? memPriv)
    {
        int ret;

        memPriv = Vb2DmaSg.AttachDmabuf(conf, dbuf, length, dir, out ret);
        if (memPriv == null)
            return ret;

        ret = Vb2DmaSg.MapDmabuf(memPriv);
        if (ret != 0)
        {
            Vb2DmaSg.DetachDmabuf(memPriv);
            memPriv = null;
            return ret;
        }

        return 0;
    }

    // __vb2_plane_dmabuf_put(): unmap if mapped, detach.
    public static void PlaneDmabufPut(Vb2DmaSgBuf memPriv, bool dbufMapped)
    {
        if (dbufMapped)
            Vb2DmaSg.UnmapDmabuf(memPriv);

        Vb2DmaSg.DetachDmabuf(memPriv);
    }
}
