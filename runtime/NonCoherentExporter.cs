// The non-coherent exporter: device memory and a separate CPU view of it, each one block of page memory; begin and end
// CPU access copy only the begun range between them, so what the seed calls undefined becomes observable.
using System;
using System.Collections.Generic;
using System.Threading;

namespace DmaBuf;

/// <summary>
/// An exporter that models a CPU cache in front of device memory, so that what the seed calls undefined is
/// observable. Devices read and write the device memory through their mapped tables; the CPU sees its own view
/// through kmap and vmap. <see cref="DmaBuffer.BeginCpuAccess(long, long, DmaDataDirection)"/> brings only the begun byte range into the CPU view
/// (for <see cref="DmaDataDirection.FromDevice"/> and <see cref="DmaDataDirection.Bidirectional"/>);
/// <see cref="DmaBuffer.EndCpuAccess(long, long, DmaDataDirection)"/> writes back only that range (for <see cref="DmaDataDirection.ToDevice"/>
/// and <see cref="DmaDataDirection.Bidirectional"/>). Everything outside the range stays stale, and CPU writes
/// that are never ended never reach the device.
/// </summary>
/// <remarks>
/// Each view is one contiguous block of page memory, so a buffer is at most about 2 GiB; a larger one, or one that
/// with its CPU view exceeds the memory the process may use, is refused with <see cref="Errno.ENOMEM"/> at its first
/// use. Like <see cref="SystemHeapExporter"/>'s, the memory lives in pinned managed arrays that pages and tables keep alive.
/// </remarks>
public sealed class NonCoherentExporter : DmaBufExporter
{
    private readonly object _lock = new();
    private Views? _views;

    /// <summary>Creates the exporter; export a buffer with it through <see cref="DmaBuffer.Export"/>.</summary>
    public NonCoherentExporter()
    {
        UnmapsNothing = true;
    }

    /// <summary>The bytes of page memory this exporter holds now: device memory and CPU view (0 before first use and after release).</summary>
    public long AllocatedBytes => Volatile.Read(ref _views) is { } views ? views.Device.Length + views.Cpu.Length : 0;

    /// <inheritdoc />
    protected internal override void Attach(DmaBufAttachment attachment)
    {
        long pages = attachment.Buffer.PageCount;
        CollatedConstraints own = CollatedConstraints.Of(new[] { attachment.Device });
        if (own.SegmentPages(pages, pages) == 0)
        {
            throw new DmaBufException(Errno.EINVAL, $"The constraints of {own.Describe(attachment.Device)} cannot be met for {attachment.Buffer} of {pages} pages (EINVAL).");
        }
    }

    /// <inheritdoc />
    protected internal override ScatterGatherTable MapDmaBuf(DmaBufAttachment attachment, DmaDataDirection direction)
    {
        DmaBuffer buffer = attachment.Buffer;
        PageBlock device = EnsureAllocated(buffer).Device;
        long pages = buffer.PageCount;
        long segmentBytes = CollatedConstraints.Of(new[] { attachment.Device }).SegmentPages(pages, pages) * DmaBuffer.PageSize;
        var entries = new List<ScatterGatherEntry>();
        var backing = new List<TableSegment>();
        for (long offset = 0; offset < buffer.Size; offset += segmentBytes)
        {
            entries.Add(new ScatterGatherEntry((ulong)(device.Address + (nint)offset), Math.Min(segmentBytes, buffer.Size - offset)));
            backing.Add(new TableSegment(device.Array, device.Offset + (int)offset));
        }

        return new ScatterGatherTable(entries.ToArray(), backing.ToArray());
    }

    /// <inheritdoc />
    protected internal override void UnmapDmaBuf(DmaBufAttachment attachment, ScatterGatherTable table)
    {
    }

    /// <inheritdoc />
    protected internal override void Release(DmaBuffer buffer)
    {
        if (BufferMemory.Drop(ref _views, _lock, buffer) is { } views)
        {
            DmaBufMemory.Return(views.Device);
            DmaBufMemory.Return(views.Cpu);
        }
    }

    /// <inheritdoc />
    protected internal override void BeginCpuAccess(DmaBuffer buffer, long start, long length, DmaDataDirection direction)
    {
        Views views = EnsureAllocated(buffer);
        if (direction is DmaDataDirection.FromDevice or DmaDataDirection.Bidirectional)
        {
            views.Device.Slice(start, length).CopyTo(views.Cpu.Slice(start, length));
        }
    }

    /// <inheritdoc />
    protected internal override void EndCpuAccess(DmaBuffer buffer, long start, long length, DmaDataDirection direction)
    {
        Views views = EnsureAllocated(buffer);
        if (direction is DmaDataDirection.ToDevice or DmaDataDirection.Bidirectional)
        {
            views.Cpu.Slice(start, length).CopyTo(views.Device.Slice(start, length));
        }
    }

    /// <inheritdoc />
    /// <remarks>Never blocks: an atomic kmap before any begin or map (undefined in the kernel) fails with <see cref="Errno.EINVAL"/> instead of allocating under a lock.</remarks>
    protected internal override nint KmapAtomic(DmaBuffer buffer, long pageNumber) =>
        (Prepared(buffer) ?? throw SystemHeapExporter.NotPrepared(buffer)).Cpu.Address + (nint)(pageNumber * DmaBuffer.PageSize);

    /// <inheritdoc />
    protected internal override nint Kmap(DmaBuffer buffer, long pageNumber) =>
        (Prepared(buffer) ?? EnsureAllocated(buffer)).Cpu.Address + (nint)(pageNumber * DmaBuffer.PageSize);

    /// <inheritdoc />
    /// <remarks>The vmap is the CPU view, as a kmap's page is: outside a begun access it shows stale data, and what is written through it reaches the device only at an <see cref="DmaBuffer.EndCpuAccess(DmaDataDirection)"/> that covers it.</remarks>
    protected internal override nint Vmap(DmaBuffer buffer) => MapBuffer(buffer).Address;

    /// <inheritdoc />
    internal override PageLocation MapBuffer(DmaBuffer buffer) => PageOf((Prepared(buffer) ?? EnsureAllocated(buffer)).Cpu, 0);

    /// <inheritdoc />
    internal override PageLocation MapPage(DmaBuffer buffer, long pageNumber, bool atomic) =>
        PageOf((Prepared(buffer) ?? (atomic ? throw SystemHeapExporter.NotPrepared(buffer) : EnsureAllocated(buffer))).Cpu, pageNumber);

    /// <inheritdoc />
    internal override bool TryMapPage(DmaBuffer buffer, long pageNumber, out PageLocation location)
    {
        if (Prepared(buffer) is { } views)
        {
            location = PageOf(views.Cpu, pageNumber);
            return true;
        }

        location = default;
        return false;
    }

    private static PageLocation PageOf(PageBlock cpu, long pageNumber)
    {
        long within = pageNumber * DmaBuffer.PageSize;
        return new PageLocation(cpu.Address + (nint)within, cpu.Array, cpu.Offset + (int)within);
    }

    private Views? Prepared(DmaBuffer buffer) => BufferMemory.Prepared(ref _views, buffer);

    private Views EnsureAllocated(DmaBuffer buffer) => BufferMemory.Ensure(ref _views, _lock, buffer, Allocate);

    private static Views Allocate(DmaBuffer buffer)
    {
        long bytes = buffer.PageCount * DmaBuffer.PageSize;
        if (bytes > DmaBufMemory.MaxBlockBytes)
        {
            throw new DmaBufException(Errno.ENOMEM, $"{buffer} of {bytes} bytes is larger than the {DmaBufMemory.MaxBlockBytes} bytes one view of the non-coherent exporter can hold (ENOMEM).");
        }

        DmaBufMemory.CheckBudget(2 * bytes, buffer);
        PageBlock device = DmaBufMemory.Allocate(bytes);
        try
        {
            return new Views(buffer, device, DmaBufMemory.Allocate(bytes));
        }
        catch
        {
            DmaBufMemory.Return(device);
            throw;
        }
    }

    /// <summary>The device memory and CPU view of one buffer, immutable.</summary>
    private sealed class Views : BufferMemory
    {
        public Views(DmaBuffer owner, PageBlock device, PageBlock cpu)
            : base(owner)
        {
            Device = device;
            Cpu = cpu;
        }

        public PageBlock Device { get; }

        public PageBlock Cpu { get; }
    }
}
