// Kernel: drivers/gpu/drm/virtio/virtgpu_prime.c, virtgpu_dma_buf_import_sgt(), Kingxukai/linux@0291023e7330 (a mainline mirror, v6.15 era; seeded)
// A copy of the port in virtgpu_dma_buf_import_sgt.cs with ONE seeded bug, the commonest slip of
// import paths: the kvmalloc_array() failure returns -ENOMEM without dma_buf_unmap_attachment(), so the table mapped
// just before is neither unmapped nor kept in bo->sgt on that path (DMA0009 at that return). The other ways out
// are as before: the failed map has nothing mapped, and success keeps the table in the object.
using System;
using System.Collections.Generic;
using DmaBuf;

namespace Kernel.Round3.Virtio.ImportSgtSeeded;

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
            // seeded: dma_buf_unmap_attachment(attach, sgt, DMA_BIDIRECTIONAL) removed here
            return E.ENOMEM; // expect: DMA0009
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
