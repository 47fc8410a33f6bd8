// Kernel: drivers/video/rockchip/vcodec/vcodec_service.c, fill_scaling_list_pps(), rockchip-linux/kernel v4.4 (release-4.4)
// The RK video codec service patches the scaling-list address into every PPS entry of a userspace PPS buffer: it
// takes a reference to the buffer with dma_buf_get(fd), begins CPU access over the whole buffer, vmaps it, reads the
// fd+offset word at the first entry, translates the fd to an IOVA and writes it into `count` entries, then vunmaps,
// ends the access and puts the reference.
// The bugs (real, in the vendor tree): every early return after the get leaks what was taken so far:
//  - begin_cpu_access fails: `return ret;` without dma_buf_put (DMA0010);
//  - dma_buf_vmap fails: `return -EIO;` with the access begun and the reference held (DMA0001, DMA0010);
//  - vcodec_fd_to_iova fails: `return tmp;` with the access begun and the reference held (DMA0001, DMA0010; the vmap
//    leaks too, which the runtime has no rule for).
// The later rewrite in drivers/staging/rockchip-mpp turns these returns into `goto done` (see
// mpp_rkvdec_fill_scaling_list_pps.cs), with a bug of its own.
// dma_buf_vmap()/dma_buf_vunmap() are ported as a stand-in that copies the buffer's bytes (the runtime has no vmap;
// the kernel mapping of the whole buffer is not what the rules here are about). The error returns of the kernel are
// kept: the begin's failure is caught into ret, the get's failure (a bad fd) returns -ENOENT.
using System;
using DmaBuf;

namespace Kernel.Rockchip.VcodecService44;

/// <summary>dma_buf_vmap()/dma_buf_vunmap() stand-in: a kernel mapping of the whole buffer, or null when it fails.</summary>
internal static class Vmap
{
    [MightSleep]
    public static byte[]? Map(DmaBuffer buffer) => buffer.Size <= int.MaxValue ? new byte[buffer.Size] : null;

    public static void Unmap(DmaBuffer buffer, byte[]? vaddr)
    {
    }
}

internal sealed class VpuSession
{
}

internal sealed class VpuReg
{
    public VpuReg(VpuSession session) => Session = session;

    public VpuSession Session { get; }
}

internal sealed class VpuSubdevData
{
}

internal static class VcodecService
{
    // vcodec_fd_to_iova(): imports the fd into the IOMMU and returns its IOVA, or a negative errno (IS_ERR_VALUE).
    [MightSleep]
    private static long VcodecFdToIova(VpuSubdevData data, VpuSession session, VpuReg reg, int fd) =>
        fd > 0 ? 0x1000_0000L + fd * 0x10_0000L : E.EINVAL;

    public static int FillScalingListPps(VpuSubdevData data, VpuReg reg, int fd, int offset, int count, int ppsInfoSize, int subAddrOffset)
    {
        DmaBuffer dmabuf;
        byte[]? vaddr;
        int pps;
        int @base = subAddrOffset;
        uint scalingFd;
        uint scalingOffset;
        int ret = 0;

        try
        {
            dmabuf = DmaBuffer.Get(fd);
        }
        catch (ArgumentException)
        {
            Log.Error("invliad pps buffer");
            return E.ENOENT;
        }

        try
        {
            dmabuf.BeginCpuAccess(0, dmabuf.Size, DmaDataDirection.FromDevice);
        }
        catch (DmaBufException e)
        {
            ret = -e.Errno;
        }

        if (ret != 0)
        {
            Log.Error("can't access the pps buffer");
            return ret; // expect: DMA0010
        }

        vaddr = Vmap.Map(dmabuf);
        if (vaddr == null)
        {
            Log.Error("can't access the pps buffer");
            return E.EIO; // expect: DMA0001, DMA0010
        }

        pps = offset;

        scalingOffset = BitConverter.ToUInt32(vaddr, pps + @base); // memcpy + le32_to_cpu

        scalingFd = scalingOffset & 0x3ff;
        scalingOffset = scalingOffset >> 10;

        if (scalingFd > 0)
        {
            int i = 0;
            long tmp = VcodecFdToIova(data, reg.Session, reg, (int)scalingFd);

            if (tmp < 0) // IS_ERR_VALUE(tmp)
                return (int)tmp; // expect: DMA0001, DMA0010
            tmp += scalingOffset;

            /* Fill the scaling list address in each pps entries */
            for (i = 0; i < count; i++, @base += ppsInfoSize)
                BitConverter.TryWriteBytes(vaddr.AsSpan(pps + @base), (uint)tmp);
        }

        Vmap.Unmap(dmabuf, vaddr);
        dmabuf.EndCpuAccess(0, dmabuf.Size, DmaDataDirection.FromDevice);
        dmabuf.Put();

        return 0;
    }
}
