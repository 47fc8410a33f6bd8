// Kernel: drivers/staging/media/tegra-vde/tegra-vde.c, tegra_vde_attach_dmabuf(), v4.16
// The Tegra video decoder's import of one userspace dma-buf (bitstream or a frame plane): dma_buf_get(), size and
// alignment checks, attach, map, a single-segment check, then hand the attachment and table back through out
// parameters, keeping the reference for tegra_vde_detach_and_put_dmabuf(), which unmaps, detaches and puts
// a->dmabuf. err_unmap/err_detach/err_put unwind the later failures. Ported with the file's two other users of it:
// tegra_vde_attach_dmabufs_to_frame() (four imports, unwound by err_release_cr/cb/y) and
// tegra_vde_release_frame_dmabufs().
// The bug: the two size checks `return -EINVAL` right after dma_buf_get() without dma_buf_put(): the reference is
// leaked (DMA0010 at each; the dev_err() that prints dmabuf->size first is logging, not a hand-over). It stayed in
// the staging driver for its whole life (tegra_vde_attach_dmabuf() of v5.3 still has both returns, see
// tegra_vde_dmabuf_cache_map_v5_3.cs); no fix commit found.
using System.Runtime.CompilerServices;
using DmaBuf;

namespace Kernel.TegraVde.Attach416;

internal sealed class VideoFrame
{
    public DmaBufAttachment? YDmabufAttachment;
    public DmaBufAttachment? CbDmabufAttachment;
    public DmaBufAttachment? CrDmabufAttachment;
    public DmaBufAttachment? AuxDmabufAttachment;
    public ulong YAddr;
    public ulong CbAddr;
    public ulong CrAddr;
    public ulong AuxAddr;
    public ScatterGatherTable? YSgt;
    public ScatterGatherTable? CbSgt;
    public ScatterGatherTable? CrSgt;
    public ScatterGatherTable? AuxSgt;
}

internal sealed class TegraVdeH264Frame
{
    public int YFd;
    public int CbFd;
    public int CrFd;
    public int AuxFd;
    public long YOffset;
    public long CbOffset;
    public long CrOffset;
    public long AuxOffset;
}

internal static class TegraVdeDriver
{
    private const long Sz256 = 256;

    private static void DetachAndPutDmabuf(DmaBufAttachment a, ScatterGatherTable sgt, DmaDataDirection dmaDir)
    {
        DmaBuffer dmabuf = a.Buffer;

        dmabuf.UnmapAttachment(a, sgt);
        dmabuf.Detach(a);
        dmabuf.Put();
    }

    private static int AttachDmabuf(Device dev, int fd, long offset, long minSize, long alignSize,
        ref DmaBufAttachment? a, ref ulong addr, ref ScatterGatherTable? s, StrongBox<long>? size,
        DmaDataDirection dmaDir)
    {
        DmaBufAttachment attachment;
        DmaBuffer dmabuf;
        ScatterGatherTable sgt;
        int err;

        try
        {
            dmabuf = DmaBuffer.Get(fd);
        }
        catch (DmaBufException e)
        {
            Log.Error("Invalid dmabuf FD");
            return -e.Errno;
        }

        if ((dmabuf.Size & (alignSize - 1)) != 0)
        {
            Log.Error("Unaligned dmabuf 0x{0:X}, should be aligned to 0x{1:X}", dmabuf.Size, alignSize);
            return E.EINVAL; // expect: DMA0010
        }

        if (offset + minSize > dmabuf.Size)
        {
            Log.Error("Too small dmabuf size {0} @0x{1:X}, should be at least {2}", dmabuf.Size, offset, minSize);
            return E.EINVAL; // expect: DMA0010
        }

        try
        {
            attachment = dmabuf.Attach(dev);
        }
        catch (DmaBufException e)
        {
            Log.Error("Failed to attach dmabuf");
            err = -e.Errno;
            goto err_put;
        }

        try
        {
            sgt = dmabuf.MapAttachment(attachment, dmaDir);
        }
        catch (DmaBufException e)
        {
            Log.Error("Failed to get dmabufs sg_table");
            err = -e.Errno;
            goto err_detach;
        }

        if (sgt.Entries.Count != 1)
        {
            Log.Error("Sparse DMA region is unsupported");
            err = E.EINVAL;
            goto err_unmap;
        }

        addr = sgt.Entries[0].DmaAddress + (ulong)offset;
        a = attachment;
        s = sgt;

        if (size != null)
            size.Value = dmabuf.Size - offset;

        return 0;

    err_unmap:
        dmabuf.UnmapAttachment(attachment, sgt);
    err_detach:
        dmabuf.Detach(attachment);
    err_put:
        dmabuf.Put();

        return err;
    }

    public static int AttachDmabufsToFrame(Device dev, VideoFrame frame, TegraVdeH264Frame src,
        DmaDataDirection dmaDir, bool baselineProfile, long lsize, long csize)
    {
        int err;

        err = AttachDmabuf(dev, src.YFd, src.YOffset, lsize, Sz256,
                           ref frame.YDmabufAttachment, ref frame.YAddr, ref frame.YSgt, null, dmaDir);
        if (err != 0)
            return err;

        err = AttachDmabuf(dev, src.CbFd, src.CbOffset, csize, Sz256,
                           ref frame.CbDmabufAttachment, ref frame.CbAddr, ref frame.CbSgt, null, dmaDir);
        if (err != 0)
            goto err_release_y;

        err = AttachDmabuf(dev, src.CrFd, src.CrOffset, csize, Sz256,
                           ref frame.CrDmabufAttachment, ref frame.CrAddr, ref frame.CrSgt, null, dmaDir);
        if (err != 0)
            goto err_release_cb;

        if (baselineProfile)
        {
            frame.AuxAddr = 0x64DEAD00;
            return 0;
        }

        err = AttachDmabuf(dev, src.AuxFd, src.AuxOffset, csize, Sz256,
                           ref frame.AuxDmabufAttachment, ref frame.AuxAddr, ref frame.AuxSgt, null, dmaDir);
        if (err != 0)
            goto err_release_cr;

        return 0;

    err_release_cr:
        DetachAndPutDmabuf(frame.CrDmabufAttachment!, frame.CrSgt!, dmaDir);
    err_release_cb:
        DetachAndPutDmabuf(frame.CbDmabufAttachment!, frame.CbSgt!, dmaDir);
    err_release_y:
        DetachAndPutDmabuf(frame.YDmabufAttachment!, frame.YSgt!, dmaDir);

        return err;
    }

    public static void ReleaseFrameDmabufs(VideoFrame frame, DmaDataDirection dmaDir, bool baselineProfile)
    {
        if (!baselineProfile)
            DetachAndPutDmabuf(frame.AuxDmabufAttachment!, frame.AuxSgt!, dmaDir);

        DetachAndPutDmabuf(frame.CrDmabufAttachment!, frame.CrSgt!, dmaDir);

        DetachAndPutDmabuf(frame.CbDmabufAttachment!, frame.CbSgt!, dmaDir);

        DetachAndPutDmabuf(frame.YDmabufAttachment!, frame.YSgt!, dmaDir);
    }
}
