// Kernel: drivers/media/v4l2-core/videobuf2-core.c, __qbuf_dmabuf(), v4.4
// Queueing a DMABUF video buffer: for each plane take a reference with dma_buf_get() on the fd userspace passed,
// check the plane's length, skip (and put) a plane that is already set up with the same buffer, otherwise release
// the plane's old memory and attach the new buffer through the allocator's attach_dmabuf memop, keeping the reference
// in vb->planes[plane].dbuf; then map every plane (map_dmabuf), copy the plane data and run the driver's buf_init and
// buf_prepare. Every failure jumps to err:, which releases the planes already kept (__vb2_buf_dmabuf_put(), ported
// with __vb2_plane_dmabuf_put() from the same file).
// The bug: the length check `goto err`s without dma_buf_put(dbuf); the reference just taken is neither kept in the
// plane nor put, and is leaked (DMA0010 at the return after err:). It was in the original implementation (v3.8) and
// was fixed by "media: videobuf2-core: Fix one __qbuf_dmabuf() error path" (Wu Xia, Dec 2015), which adds the put.
// The allocator and driver callbacks are interface calls (tables of function pointers in the kernel).
using DmaBuf;

namespace Kernel.Media.QbufDmabuf44;

internal sealed class Vb2Plane
{
    public DmaBuffer? Dbuf;
    public object? MemPriv;
    public bool DbufMapped;
    public uint Bytesused;
    public long Length;
    public int Fd;
    public uint DataOffset;
}

/// <summary>struct vb2_mem_ops: the allocator's callbacks, called through the queue's table (call_*_memop).</summary>
internal interface IVb2MemOps
{
    /// <summary>attach_dmabuf: returns the allocator's private data, or null with the errno in err (ERR_PTR).</summary>
    object? AttachDmabuf(object? allocCtx, DmaBuffer dbuf, long size, DmaDataDirection dmaDir, out int err);

    void DetachDmabuf(object memPriv);

    int MapDmabuf(object memPriv);

    void UnmapDmabuf(object memPriv);
}

/// <summary>struct vb2_ops (the driver's callbacks) and struct vb2_buf_ops (the V4L2 glue).</summary>
internal interface IVb2Ops
{
    int FillVb2Buffer(Vb2Buffer vb, object pb, Vb2Plane[] planes);

    int BufInit(Vb2Buffer vb);

    int BufPrepare(Vb2Buffer vb);

    void BufCleanup(Vb2Buffer vb);
}

internal sealed class Vb2Queue
{
    public Vb2Queue(IVb2MemOps memOps, IVb2Ops ops)
    {
        MemOps = memOps;
        Ops = ops;
    }

    public IVb2MemOps MemOps { get; }

    public IVb2Ops Ops { get; }

    public bool IsOutput { get; set; }

    public long[] PlaneSizes { get; } = new long[Vb2Core.Vb2MaxPlanes];

    public object?[] AllocCtx { get; } = new object?[Vb2Core.Vb2MaxPlanes];
}

internal sealed class Vb2Buffer
{
    public Vb2Buffer(Vb2Queue queue, int numPlanes)
    {
        Vb2Queue = queue;
        NumPlanes = numPlanes;
        for (int i = 0; i < Planes.Length; i++)
            Planes[i] = new Vb2Plane();
    }

    public Vb2Queue Vb2Queue { get; }

    public int NumPlanes { get; }

    public Vb2Plane[] Planes { get; } = new Vb2Plane[Vb2Core.Vb2MaxPlanes];
}

internal static class Vb2Core
{
    public const int Vb2MaxPlanes = 8;

    private static void Dprintk(int level, string format, params object?[] args) => Log.Debug(format, args);

    /**
     * __vb2_plane_dmabuf_put() - release memory associated with
     * a DMABUF shared plane
     */
    private static void PlaneDmabufPut(Vb2Buffer vb, Vb2Plane p)
    {
        if (p.MemPriv == null)
            return;

        if (p.DbufMapped)
            vb.Vb2Queue.MemOps.UnmapDmabuf(p.MemPriv);

        vb.Vb2Queue.MemOps.DetachDmabuf(p.MemPriv);
        p.Dbuf!.Put();
        p.MemPriv = null;
        p.Dbuf = null;
        p.DbufMapped = false;
    }

    /**
     * __vb2_buf_dmabuf_put() - release memory associated with
     * a DMABUF shared buffer
     */
    private static void BufDmabufPut(Vb2Buffer vb)
    {
        int plane;

        for (plane = 0; plane < vb.NumPlanes; ++plane)
            PlaneDmabufPut(vb, vb.Planes[plane]);
    }

    /**
     * __qbuf_dmabuf() - handle qbuf of a DMABUF buffer
     */
    public static int QbufDmabuf(Vb2Buffer vb, object pb)
    {
        Vb2Plane[] planes = new Vb2Plane[Vb2MaxPlanes];
        Vb2Queue q = vb.Vb2Queue;
        object? memPriv;
        int plane;
        int ret;
        DmaDataDirection dmaDir = q.IsOutput ? DmaDataDirection.ToDevice : DmaDataDirection.FromDevice;
        bool reacquired = vb.Planes[0].MemPriv == null;

        for (plane = 0; plane < vb.NumPlanes; plane++)
            planes[plane] = new Vb2Plane(); // memset(planes, 0, ...)
        /* Copy relevant information provided by the userspace */
        ret = q.Ops.FillVb2Buffer(vb, pb, planes);
        if (ret != 0)
            return ret;

        for (plane = 0; plane < vb.NumPlanes; ++plane)
        {
            DmaBuffer dbuf;
            try
            {
                dbuf = DmaBuffer.Get(planes[plane].Fd);
            }
            catch (DmaBufException)
            {
                Dprintk(1, "invalid dmabuf fd for plane {0}", plane);
                ret = E.EINVAL;
                goto err;
            }

            /* use DMABUF size if length is not provided */
            if (planes[plane].Length == 0)
                planes[plane].Length = dbuf.Size;

            if (planes[plane].Length < q.PlaneSizes[plane])
            {
                Dprintk(1, "invalid dmabuf length for plane {0}", plane);
                ret = E.EINVAL;
                goto err;
            }

            /* Skip the plane if already verified */
            if (dbuf == vb.Planes[plane].Dbuf &&
                vb.Planes[plane].Length == planes[plane].Length)
            {
                dbuf.Put();
                continue;
            }

            Dprintk(1, "buffer for plane {0} changed", plane);

            if (!reacquired)
            {
                reacquired = true;
                q.Ops.BufCleanup(vb);
            }

            /* Release previously acquired memory if present */
            PlaneDmabufPut(vb, vb.Planes[plane]);
            vb.Planes[plane].Bytesused = 0;
            vb.Planes[plane].Length = 0;
            vb.Planes[plane].Fd = 0;
            vb.Planes[plane].DataOffset = 0;

            /* Acquire each plane's memory */
            memPriv = q.MemOps.AttachDmabuf(q.AllocCtx[plane], dbuf, planes[plane].Length, dmaDir, out int attachErr);
            if (memPriv == null)
            {
                Dprintk(1, "failed to attach dmabuf");
                ret = attachErr;
                dbuf.Put();
                goto err;
            }

            vb.Planes[plane].Dbuf = dbuf;
            vb.Planes[plane].MemPriv = memPriv;
        }

        /* TODO: This pins the buffer(s) with  dma_buf_map_attachment()).. but
         * really we want to do this just before the DMA, not while queueing
         * the buffer(s)..
         */
        for (plane = 0; plane < vb.NumPlanes; ++plane)
        {
            ret = q.MemOps.MapDmabuf(vb.Planes[plane].MemPriv!);
            if (ret != 0)
            {
                Dprintk(1, "failed to map dmabuf for plane {0}", plane);
                goto err;
            }
            vb.Planes[plane].DbufMapped = true;
        }

        /*
         * Now that everything is in order, copy relevant information
         * provided by userspace.
         */
        for (plane = 0; plane < vb.NumPlanes; ++plane)
        {
            vb.Planes[plane].Bytesused = planes[plane].Bytesused;
            vb.Planes[plane].Length = planes[plane].Length;
            vb.Planes[plane].Fd = planes[plane].Fd;
            vb.Planes[plane].DataOffset = planes[plane].DataOffset;
        }

        if (reacquired)
        {
            /*
             * Call driver-specific initialization on the newly acquired buffer,
             * if provided.
             */
            ret = q.Ops.BufInit(vb);
            if (ret != 0)
            {
                Dprintk(1, "buffer initialization failed");
                goto err;
            }
        }

        ret = q.Ops.BufPrepare(vb);
        if (ret != 0)
        {
            Dprintk(1, "buffer preparation failed");
            q.Ops.BufCleanup(vb);
            goto err;
        }

        return 0;
    err:
        /* In case of errors, release planes that were already acquired */
        BufDmabufPut(vb);

        return ret; // expect: DMA0010
    }
}
