// Each method breaks exactly one rule; building this project prints its warning.
// The same code, fixed, is in ../Fixed/Rules.cs.
using System;
using System.Threading;
using DmaBuf;

namespace DmaBuf.Samples.Firing;

public static class Rules
{
    // DMA0001: the early return leaves the CPU access begun.
    public static int Dma0001(DmaBuffer buf, bool empty)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        if (empty)
        {
            return 0;
        }

        var page = buf.Kmap(0);
        int first = page.Span[0];
        buf.Kunmap(0, page);
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        return first;
    }

    // DMA0002: the end names another length than the begin.
    public static void Dma0002(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
    }

    // DMA0003: an atomic mapping unmapped with Kunmap.
    public static byte Dma0003(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        var page = buf.KmapAtomic(1);
        byte b = page.Span[0];
        buf.Kunmap(1, page);
        buf.EndCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        return b;
    }

    // DMA0004: three atomic mappings held at once.
    public static void Dma0004(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
        var a = buf.KmapAtomic(0);
        var b = buf.KmapAtomic(1);
        var c = buf.KmapAtomic(2);
        a.Span.CopyTo(c.Span);
        b.Span.CopyTo(c.Span);
        buf.KunmapAtomic(2, c);
        buf.KunmapAtomic(1, b);
        buf.KunmapAtomic(0, a);
        buf.EndCpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
    }

    // DMA0005: sleeping while an atomic mapping is held.
    public static void Dma0005(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        var page = buf.KmapAtomic(0);
        page.Span.Fill(1);
        Thread.Sleep(1);
        buf.KunmapAtomic(0, page);
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }

    // DMA0006: page 2 is outside the begun pages 0-1.
    public static byte Dma0006(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice))
        using (var page = buf.KmapAtomic(2))
        {
            return page.Span[0];
        }
    }

    // DMA0007: a kmap after the CPU access was ended.
    public static void Dma0007(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        using var page = buf.Kmap(0);
        page.Span.Clear();
    }

    // DMA0008: an exporter's atomic kmap callback that takes a lock.
    public sealed class LockingExporter : DmaBufExporter
    {
        private readonly object _gate = new();
        private readonly nint[] _pages = new nint[1];

        protected override ScatterGatherTable MapDmaBuf(DmaBufAttachment attachment, DmaDataDirection direction) =>
            throw new NotSupportedException();

        protected override void UnmapDmaBuf(DmaBufAttachment attachment, ScatterGatherTable table)
        {
        }

        protected override void Release(DmaBuffer buffer)
        {
        }

        protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber)
        {
            lock (_gate)
            {
                return _pages[pageNumber];
            }
        }

        protected override nint Kmap(DmaBuffer buffer, long pageNumber) => _pages[pageNumber];
    }

    // DMA0009: the attachment is detached while its table is still mapped.
    public static void Dma0009(DmaBuffer buf, Device device, byte[] frame)
    {
        DmaBufAttachment attachment = buf.Attach(device);
        ScatterGatherTable table = buf.MapAttachment(attachment, DmaDataDirection.FromDevice);
        device.DmaWrite(table, 0, frame);
        buf.Detach(attachment);
    }

    // DMA0010: the early return leaves the reference taken by Get.
    public static long Dma0010(int fd, long minimumSize)
    {
        DmaBuffer buf = DmaBuffer.Get(fd);
        if (buf.Size < minimumSize)
        {
            return 0;
        }

        long pages = buf.PageCount;
        buf.Put();
        return pages;
    }

    // DMA0011: the attachment is detached after the buffer's last reference was put.
    public static void Dma0011(DmaBufExporter exporter, Device device)
    {
        DmaBuffer buf = DmaBuffer.Export(exporter, DmaBuffer.PageSize);
        DmaBufAttachment attachment = buf.Attach(device);
        buf.Put();
        buf.Detach(attachment);
    }

    // DMA0012: the early return leaves the buffer vmapped.
    public static int Dma0012(DmaBuffer buf, byte[] frame)
    {
        DmaBufVmap map = buf.Vmap();
        if (frame.Length == 0)
            return -22;
        using (buf.CpuAccess(DmaDataDirection.FromDevice))
            map.GetSpan(0, frame.Length).CopyTo(frame);
        buf.Vunmap(map);
        return 0;
    }
}
