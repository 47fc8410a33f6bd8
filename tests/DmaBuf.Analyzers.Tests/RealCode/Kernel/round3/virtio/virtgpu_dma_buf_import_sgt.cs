// Kernel: drivers/gpu/drm/virtio/virtgpu_prime.c, virtgpu_dma_buf_import_sgt(), Kingxukai/linux@0291023e7330 (a mainline mirror, v6.15 era)
// virtio-gpu's import of a guest blob from another driver's dma-buf: with the reservation lock held (asserted), wait
// for the kernel fences (an error or -ETIMEDOUT on failure), map the attachment DMA_BIDIRECTIONAL, kvmalloc the array
// of virtio_gpu_mem_entry that describes the table to the host (on failure unmap the table and return -ENOMEM), fill
// it from the DMA segments and keep the table in bo->sgt; virtgpu_dma_buf_unmap() (ported with it) unmaps bo->sgt
// when the object goes or the exporter moves the buffer. virtgpu_dma_buf_init_obj(), its caller, pins the attachment
// around the call. The attachment is a parameter and the table escapes to the object on success. Correct: silent.
using System;
using System.Collections.Generic;
using DmaBuf;

namespace Kernel.Round3.Virtio.ImportSgt;

internal struct VirtioGpuMemEntry
{
    public ulong Addr;
    public uint Length;
    public uint Padding;
}

internal sealed class VirtioGpuObject
{
    public bool Created;
    public ScatterGatherTable? Sgt;
    public DmaBufAttachment? ImportAttach;
}

internal static class VirtgpuPrime
{
    private const int ETIMEDOUT = -110;

    /// <summary>dma_resv_wait_timeout(resv, DMA_RESV_USAGE_KERNEL, false, MAX_SCHEDULE_TIMEOUT): sleeps.</summary>
    [MightSleep]
    private static long ResvWaitTimeout(DmaBuffer buffer) => 1;

    /// <summary>kvmalloc_array(n, size, GFP_KERNEL): may sleep; null on failure.</summary>
    [MightSleep]
    private static VirtioGpuMemEntry[]? KvmallocArray(int n) => n >= 0 ? new VirtioGpuMemEntry[n] : null;

    // ents and nents are the caller's out parameters (struct virtio_gpu_mem_entry **ents, unsigned int *nents).
    public static int ImportSgt(out VirtioGpuMemEntry[]? ents, out int nents, VirtioGpuObject bo, DmaBufAttachment attach)
    {
        ScatterGatherTable sgt;
        long ret;
        int i;

        ents = null;
        nents = 0;

        // dma_resv_assert_held(attach->dmabuf->resv);

        ret = ResvWaitTimeout(attach.Buffer);
        if (ret <= 0)
            return ret < 0 ? (int)ret : ETIMEDOUT;

        try
        {
            sgt = attach.Buffer.MapAttachment(attach, DmaDataDirection.Bidirectional);
        }
        catch (DmaBufException e)
        {
            return -e.Errno; // PTR_ERR(sgt)
        }

        IReadOnlyList<ScatterGatherEntry> segments = sgt.Entries;
        ents = KvmallocArray(segments.Count);
        if (ents == null)
        {
            attach.Buffer.UnmapAttachment(attach, sgt);
            return E.ENOMEM;
        }

        nents = segments.Count;
        i = 0;
        foreach (ScatterGatherEntry sl in segments) // for_each_sgtable_dma_sg(sgt, sl, i)
        {
            ents[i].Addr = sl.DmaAddress;         // cpu_to_le64(sg_dma_address(sl))
            ents[i].Length = (uint)sl.Length;     // cpu_to_le32(sg_dma_len(sl))
            ents[i].Padding = 0;
            i++;
        }

        bo.Sgt = sgt;
        return 0;
    }

    // virtgpu_dma_buf_unmap()
    public static void Unmap(VirtioGpuObject bo)
    {
        DmaBufAttachment attach = bo.ImportAttach!;

        // dma_resv_assert_held(attach->dmabuf->resv);

        if (bo.Created)
        {
            // virtio_gpu_detach_object_fenced(bo);

            if (bo.Sgt != null)
                attach.Buffer.UnmapAttachment(attach, bo.Sgt);

            bo.Sgt = null;
        }
    }
}
