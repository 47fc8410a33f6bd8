// Kernel: drivers/staging/rockchip-mpp/mpp_dev_rkvdec.c, fill_scaling_list_pps(), rockchip-mpp staging series (2019, range form of begin_cpu_access)
// The rewrite of vcodec_service.c's fill_scaling_list_pps() for the staging rockchip-mpp driver: the early returns
// that leaked (see vcodec_fill_scaling_list_pps_v4_4.cs) became `goto done`, where done: vunmaps, ends the CPU access,
// puts the reference and returns ret.
// The bug (real): the begin_cpu_access failure also jumps to done:, so on that path dma_buf_end_cpu_access() ends an
// access that was never begun (DMA0002 at the EndCpuAccess; on the other paths to done: it matches the begin). The
// vunmap of a NULL vaddr on that path is harmless in the kernel. The other paths are clean: the vmap failure and the
// attach_fd failure reach done: with the access begun, and done: ends it and puts.
// dma_buf_vmap()/vunmap() are a stand-in (the runtime has no vmap). The version ported is the one that still passed
// (0, dmabuf->size) to begin/end_cpu_access; a later patch of the series dropped the range.
using System;
using DmaBuf;

namespace Kernel.Rockchip.MppRkvdec;

/// <summary>dma_buf_vmap()/dma_buf_vunmap() stand-in: a kernel mapping of the whole buffer, or null when it fails.</summary>
internal static class Vmap
{
    [MightSleep]
    public static byte[]? Map(DmaBuffer buffer) => buffer.Size <= int.MaxValue ? new byte[buffer.Size] : null;

    public static void Unmap(DmaBuffer buffer, byte[]? vaddr)
    {
    }
}

internal sealed class MppMemRegion
{
    public ulong Iova { get; init; }
}

internal sealed class MppTask
{
}

internal sealed class RkvdecTask
{
    public MppTask MppTask { get; } = new MppTask();
}

internal static class MppDevRkvdec
{
    // mpp_dev_task_attach_fd(): imports the fd for the task; null (an ERR_PTR in the kernel) on failure.
    [MightSleep]
    private static MppMemRegion? MppDevTaskAttachFd(MppTask task, int fd) => fd > 0 ? new MppMemRegion { Iova = 0x2000_0000UL } : null;

    public static int FillScalingListPps(RkvdecTask task, int fd, int offset, int count, int ppsInfoSize, int subAddrOffset)
    {
        DmaBuffer dmabuf;
        byte[]? vaddr = null;
        int pps;
        int @base = subAddrOffset;
        uint scalingFd = 0;
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
            goto done;
        }

        vaddr = Vmap.Map(dmabuf);
        if (vaddr == null)
        {
            Log.Error("can't access the pps buffer");
            ret = E.EIO;
            goto done;
        }

        pps = offset;

        scalingOffset = BitConverter.ToUInt32(vaddr, pps + @base);

        scalingFd = scalingOffset & 0x3ff;
        scalingOffset = scalingOffset >> 10;

        if (scalingFd > 0)
        {
            MppMemRegion? memRegion;
            ulong tmp;
            int i = 0;

            memRegion = MppDevTaskAttachFd(task.MppTask, (int)scalingFd);
            if (memRegion == null)
            {
                ret = E.EINVAL; // PTR_ERR(mem_region)
                goto done;
            }

            tmp = memRegion.Iova;
            tmp += scalingOffset;
            Log.Debug("pps at {0}, scaling fd: {1} => {2:x} + offset {3}", pps, scalingFd, memRegion.Iova, offset);

            /* Fill the scaling list address in each pps entries */
            for (i = 0; i < count; i++, @base += ppsInfoSize)
                BitConverter.TryWriteBytes(vaddr.AsSpan(pps + @base), (uint)tmp);
        }

    done:
        Vmap.Unmap(dmabuf, vaddr);
        dmabuf.EndCpuAccess(0, dmabuf.Size, DmaDataDirection.FromDevice); // expect: DMA0002
        dmabuf.Put();

        return ret;
    }
}
