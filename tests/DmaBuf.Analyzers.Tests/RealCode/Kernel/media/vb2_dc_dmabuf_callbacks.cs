// Kernel: drivers/media/v4l2-core/videobuf2-dma-contig.c, vb2_dc_map_dmabuf(), v4.4
// The DMA-contig allocator's importer callbacks for DMABUF planes, as videobuf2-core calls them:
// - vb2_dc_attach_dmabuf(): checks the size, allocates its private buffer and attaches the device; on failure frees
//   and returns the error. The reference to dbuf stays with the core (vb->planes[].dbuf); the attachment is kept.
// - vb2_dc_map_dmabuf(): refuses an unattached or already pinned buffer, maps the attachment, and when the mapping
//   is not contiguous enough unmaps it again before returning -EFAULT; otherwise keeps the table in buf->dma_sgt.
// - vb2_dc_unmap_dmabuf(): unmaps the kept table (after dropping a vmap, which this runtime does not have).
// - vb2_dc_detach_dmabuf(): unmaps a buffer still pinned (WARN_ON), then detaches from db_attach->dmabuf.
// The attachment and table live in fields of the private buffer across calls. Correct: silent.
using DmaBuf;

namespace Kernel.Media.Vb2DcDmabuf;

internal sealed class Vb2DcConf
{
    public Vb2DcConf(Device dev) => Dev = dev;

    public Device Dev { get; }
}

internal sealed class Vb2DcBuf
{
    public Device? Dev;
    public long Size;
    public DmaDataDirection DmaDir;
    public ulong DmaAddr;
    public ScatterGatherTable? DmaSgt;
    public byte[]? Vaddr;
    public DmaBufAttachment? DbAttach;
}

internal static class Vb2DmaContig
{
    private static bool WarnOn(bool condition) => condition;

    // vb2_dc_get_contiguous_size(): the length of the first run of DMA-contiguous segments.
    private static long GetContiguousSize(ScatterGatherTable sgt)
    {
        ulong expected = sgt.Entries[0].DmaAddress;
        long size = 0;

        foreach (ScatterGatherEntry s in sgt.Entries)
        {
            if (s.DmaAddress != expected)
                break;
            expected = s.DmaAddress + (ulong)s.Length;
            size += s.Length;
        }

        return size;
    }

    public static int MapDmabuf(object memPriv)
    {
        Vb2DcBuf buf = (Vb2DcBuf)memPriv;
        ScatterGatherTable sgt;
        long contigSize;

        if (WarnOn(buf.DbAttach == null))
        {
            Log.Error("trying to pin a non attached buffer");
            return E.EINVAL;
        }

        if (WarnOn(buf.DmaSgt != null))
        {
            Log.Error("dmabuf buffer is already pinned");
            return 0;
        }

        /* get the associated scatterlist for this buffer */
        try
        {
            sgt = buf.DbAttach!.Buffer.MapAttachment(buf.DbAttach, buf.DmaDir);
        }
        catch (DmaBufException)
        {
            Log.Error("Error getting dmabuf scatterlist");
            return E.EINVAL;
        }

        /* checking if dmabuf is big enough to store contiguous chunk */
        contigSize = GetContiguousSize(sgt);
        if (contigSize < buf.Size)
        {
            Log.Error("contiguous chunk is too small {0}/{1} b", contigSize, buf.Size);
            buf.DbAttach.Buffer.UnmapAttachment(buf.DbAttach, sgt);
            return E.EFAULT;
        }

        buf.DmaAddr = sgt.Entries[0].DmaAddress;
        buf.DmaSgt = sgt;
        buf.Vaddr = null;

        return 0;
    }

    public static void UnmapDmabuf(object memPriv)
    {
        Vb2DcBuf buf = (Vb2DcBuf)memPriv;
        ScatterGatherTable? sgt = buf.DmaSgt;

        if (WarnOn(buf.DbAttach == null))
        {
            Log.Error("trying to unpin a not attached buffer");
            return;
        }

        if (WarnOn(sgt == null))
        {
            Log.Error("dmabuf buffer is already unpinned");
            return;
        }

        if (buf.Vaddr != null)
        {
            // dma_buf_vunmap(buf->db_attach->dmabuf, buf->vaddr);
            buf.Vaddr = null;
        }

        buf.DbAttach!.Buffer.UnmapAttachment(buf.DbAttach, sgt!);

        buf.DmaAddr = 0;
        buf.DmaSgt = null;
    }

    public static void DetachDmabuf(object memPriv)
    {
        Vb2DcBuf buf = (Vb2DcBuf)memPriv;

        /* if vb2 works correctly you should never detach mapped buffer */
        if (WarnOn(buf.DmaSgt != null))
            UnmapDmabuf(buf);

        /* detach this attachment */
        buf.DbAttach!.Buffer.Detach(buf.DbAttach);
        // kfree(buf);
    }

    public static object? AttachDmabuf(object? allocCtx, DmaBuffer dbuf, long size, DmaDataDirection dmaDir, out int err)
    {
        Vb2DcConf conf = (Vb2DcConf)allocCtx!;
        Vb2DcBuf? buf;
        DmaBufAttachment dba;

        err = 0;
        if (dbuf.Size < size)
        {
            err = E.EFAULT;
            return null;
        }

        buf = Uaccess.Kzalloc<Vb2DcBuf>();
        if (buf == null)
        {
            err = E.ENOMEM;
            return null;
        }

        buf.Dev = conf.Dev;
        /* create attachment for the dmabuf with the device */
        try
        {
            dba = dbuf.Attach(buf.Dev);
        }
        catch (DmaBufException e)
        {
            Log.Error("failed to attach dmabuf");
            // kfree(buf);
            err = -e.Errno;
            return null;
        }

        buf.DmaDir = dmaDir;
        buf.Size = size;
        buf.DbAttach = dba;

        return buf;
    }
}
