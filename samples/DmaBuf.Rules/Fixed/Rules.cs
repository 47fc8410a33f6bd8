// The code of ../Firing/Rules.cs, fixed. Building it reports nothing.
using System;
using System.Threading;
using DmaBuf;

namespace DmaBuf.Samples.Fixed;

public static class Rules
{
    // DMA0001: a CpuAccess scope ends the access on every path.
    public static int Dma0001(DmaBuffer buf, bool empty)
    {
        using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice))
        {
            if (empty)
            {
                return 0;
            }

            var page = buf.Kmap(0);
            int first = page.Span[0];
            buf.Kunmap(0, page);
            return first;
        }
    }

    // DMA0002: the end names the begun range.
    public static void Dma0002(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        buf.EndCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
    }

    // DMA0003: the atomic mapping is unmapped with KunmapAtomic.
    public static byte Dma0003(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        var page = buf.KmapAtomic(1);
        byte b = page.Span[0];
        buf.KunmapAtomic(1, page);
        buf.EndCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        return b;
    }

    // DMA0004: the third page is mapped with Kmap, which may hold any number.
    public static void Dma0004(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
        var c = buf.Kmap(2);
        var a = buf.KmapAtomic(0);
        var b = buf.KmapAtomic(1);
        a.Span.CopyTo(c.Span);
        b.Span.CopyTo(c.Span);
        buf.KunmapAtomic(1, b);
        buf.KunmapAtomic(0, a);
        buf.Kunmap(2, c);
        buf.EndCpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
    }

    // DMA0005: unmap before sleeping.
    public static void Dma0005(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        var page = buf.KmapAtomic(0);
        page.Span.Fill(1);
        buf.KunmapAtomic(0, page);
        Thread.Sleep(1);
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }

    // DMA0006: the access covers page 2.
    public static byte Dma0006(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.FromDevice))
        using (var page = buf.KmapAtomic(2))
        {
            return page.Span[0];
        }
    }

    // DMA0007: the kmap happens while the CPU access is begun.
    public static void Dma0007(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice))
        using (var page = buf.Kmap(0))
        {
            page.Span.Clear();
        }
    }

    // DMA0008: the atomic callback reads a table prepared in BeginCpuAccess, which may block.
    public sealed class PreparedExporter : DmaBufExporter
    {
        private readonly object _gate = new();
        private nint[] _pages = new nint[1];

        protected override ScatterGatherTable MapDmaBuf(DmaBufAttachment attachment, DmaDataDirection direction) =>
            throw new NotSupportedException();

        protected override void UnmapDmaBuf(DmaBufAttachment attachment, ScatterGatherTable table)
        {
        }

        protected override void Release(DmaBuffer buffer)
        {
        }

        protected override void BeginCpuAccess(DmaBuffer buffer, long start, long length, DmaDataDirection direction)
        {
            lock (_gate)
            {
                _pages = (nint[])_pages.Clone();
            }
        }

        protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber) => Volatile.Read(ref _pages)[pageNumber];

        protected override nint Kmap(DmaBuffer buffer, long pageNumber) => _pages[pageNumber];
    }

    // DMA0009: the table is unmapped before the attachment is detached.
    public static void Dma0009(DmaBuffer buf, Device device, byte[] frame)
    {
        DmaBufAttachment attachment = buf.Attach(device);
        ScatterGatherTable table = buf.MapAttachment(attachment, DmaDataDirection.FromDevice);
        device.DmaWrite(table, 0, frame);
        buf.UnmapAttachment(attachment, table);
        buf.Detach(attachment);
    }

    // DMA0010: a finally block puts the reference on every path.
    public static long Dma0010(int fd, long minimumSize)
    {
        DmaBuffer buf = DmaBuffer.Get(fd);
        try
        {
            if (buf.Size < minimumSize)
            {
                return 0;
            }

            return buf.PageCount;
        }
        finally
        {
            buf.Put();
        }
    }

    // DMA0011: the attachment is detached before the last reference is put.
    public static void Dma0011(DmaBufExporter exporter, Device device)
    {
        DmaBuffer buf = DmaBuffer.Export(exporter, DmaBuffer.PageSize);
        DmaBufAttachment attachment = buf.Attach(device);
        buf.Detach(attachment);
        buf.Put();
    }

    // DMA0012 fixed: the vmap is disposed on every way out.
    public static int Dma0012(DmaBuffer buf, byte[] frame)
    {
        using DmaBufVmap map = buf.Vmap();
        if (frame.Length == 0)
            return -22;
        using (buf.CpuAccess(DmaDataDirection.FromDevice))
            map.GetSpan(0, frame.Length).CopyTo(frame);
        return 0;
    }
}
