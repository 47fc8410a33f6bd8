// Kernel: drivers/media/platform/msm/vidc/msm_smem.c, msm_smem_cache_operations(), LineageOS/android_kernel_qcom_sm8250@60d8e74cc7f3 (msm-4.19)
// The Qualcomm video driver's cache maintenance on a buffer it shares with the video core: skip buffers that are not
// ION_FLAG_CACHED (dma_buf_get_flags() is the vendor tree's query of the ION flags), then for a clean begin and end a
// partial CPU access (dma_buf_begin_cpu_access_partial(dbuf, dir, offset, size), ported as the ranged
// BeginCpuAccess(offset, size, dir)) DMA_TO_DEVICE both ways; a failed begin breaks out with its error.
// The bug (real, in the vendor code as shipped): SMEM_CACHE_INVALIDATE begins the access DMA_TO_DEVICE and ends it
// DMA_FROM_DEVICE over the same range, to get an invalidate out of the exporter's two callbacks. The end does not
// match the access that was begun (DMA0002 at that end); the same shape is in msm_cvp_smem_cache_operations() and
// later msm_vidc trees. The CLEAN case matches.
using System;
using DmaBuf;

namespace Kernel.Round3.MsmVidc.CacheOps;

internal enum SmemCacheOps
{
    SmemCacheClean,
    SmemCacheInvalidate,
    SmemCacheCleanInvalidate,
}

/// <summary>The ION exporter, reduced to what this port reads: the flags its heap allocated the buffer with.</summary>
internal sealed class IonExporter : DmaBufExporter
{
    public IonExporter(ulong ionFlags) => IonFlags = ionFlags;

    public ulong IonFlags { get; }

    protected override ScatterGatherTable MapDmaBuf(DmaBufAttachment attachment, DmaDataDirection direction) =>
        new ScatterGatherTable(new[] { new ScatterGatherEntry(0x80000000, attachment.Buffer.Size) });

    protected override void UnmapDmaBuf(DmaBufAttachment attachment, ScatterGatherTable table)
    {
    }

    protected override void Release(DmaBuffer buffer)
    {
    }

    protected override nint Kmap(DmaBuffer buffer, long pageNumber) => 0;

    protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber) => 0;
}

internal static class MsmSmem
{
    private const ulong ION_FLAG_CACHED = 1;

    // dma_buf_get_flags(): the vendor query of the flags the ION heap allocated the buffer with.
    private static int DmaBufGetFlags(DmaBuffer dbuf, out ulong flags)
    {
        if (dbuf.Exporter is IonExporter ion)
        {
            flags = ion.IonFlags;
            return 0;
        }

        flags = 0;
        return E.EINVAL;
    }

    public static int CacheOperations(DmaBuffer? dbuf, SmemCacheOps cacheOp, long offset, long size)
    {
        int rc = 0;
        ulong flags = 0;

        if (dbuf == null)
        {
            Log.Error("{0}: Invalid params", nameof(CacheOperations));
            return E.EINVAL;
        }

        /* Return if buffer doesn't support caching */
        rc = DmaBufGetFlags(dbuf, out flags);
        if (rc != 0)
        {
            Log.Error("{0}: dma_buf_get_flags failed, err {1}", nameof(CacheOperations), rc);
            return rc;
        }
        else if ((flags & ION_FLAG_CACHED) == 0)
        {
            return rc;
        }

        switch (cacheOp)
        {
            case SmemCacheOps.SmemCacheClean:
            case SmemCacheOps.SmemCacheCleanInvalidate:
                try
                {
                    dbuf.BeginCpuAccess(offset, size, DmaDataDirection.ToDevice);
                }
                catch (DmaBufException e)
                {
                    rc = -e.Errno;
                }

                if (rc != 0)
                    break;
                dbuf.EndCpuAccess(offset, size, DmaDataDirection.ToDevice);
                break;
            case SmemCacheOps.SmemCacheInvalidate:
                try
                {
                    dbuf.BeginCpuAccess(offset, size, DmaDataDirection.ToDevice);
                }
                catch (DmaBufException e)
                {
                    rc = -e.Errno;
                }

                if (rc != 0)
                    break;
                dbuf.EndCpuAccess(offset, size, DmaDataDirection.FromDevice); // expect: DMA0002
                break;
            default:
                Log.Error("{0}: cache ({1}) operation not supported", nameof(CacheOperations), cacheOp);
                rc = E.EINVAL;
                break;
        }

        return rc;
    }
}
