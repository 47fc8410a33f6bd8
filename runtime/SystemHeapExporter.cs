// The system-heap exporter: page memory laid out in equal segments from the collated constraints of the devices
// attached before the first map or CPU access, published once as an immutable layout, never migrated, dropped at release;
// one block cut into the segments when it fits, which is the buffer's linear view for vmap.
using System;
using System.Collections.Generic;
using System.Numerics;
using System.Threading;

namespace DmaBuf;

/// <summary>
/// An exporter backed by page-aligned page memory, like the kernel's system heap. The memory is allocated
/// lazily, at the first <see cref="DmaBuffer.MapAttachment"/> (or CPU access, or vmap), from the collated constraints
/// of the devices attached so far (the seed: "collate the requirements of the attached devices"), laid out
/// in equal segments; it is given up at release. CPU access is coherent: the CPU and devices see the same memory.
/// A buffer that fits in one block of page memory (about 2 GiB) is one block cut into its segments, so that
/// <see cref="DmaBuffer.Vmap"/> is a linear view of it; a larger one cannot be vmapped (<see cref="Errno.ENOMEM"/>).
/// </summary>
/// <remarks>
/// Once the memory is allocated it is not migrated: a later <see cref="DmaBuffer.Attach"/> of a device whose
/// constraints the layout does not meet is refused with <see cref="Errno.EBUSY"/>. A device whose constraints
/// cannot be met at all is refused with <see cref="Errno.EINVAL"/>. A buffer larger than the memory the process may
/// use, or a contiguous segment larger than one block of page memory (about 2 GiB), is refused with
/// <see cref="Errno.ENOMEM"/> before anything is allocated. The memory lives in pinned managed arrays that every page
/// and table handed out keeps alive, so nothing can reach it after it is freed (DESIGN §2, "Memory safety").
/// </remarks>
public sealed class SystemHeapExporter : DmaBufExporter
{
    /// <summary>The segment size used when no attached device asks for smaller or fewer segments: 1 MiB.</summary>
    public const long PreferredSegmentSize = 1L << 20;

    private readonly object _lock = new();
    private Layout? _layout;

    /// <summary>Creates the exporter; export a buffer with it through <see cref="DmaBuffer.Export"/>.</summary>
    public SystemHeapExporter()
    {
        UnmapsNothing = true;
    }

    /// <summary>The bytes of page memory this exporter holds now (0 before the first map and after release).</summary>
    public long AllocatedBytes => Volatile.Read(ref _layout)?.Bytes ?? 0;

    /// <summary>Whether the backing memory has been allocated.</summary>
    public bool IsAllocated => Volatile.Read(ref _layout) is not null;

    /// <summary>The size of each segment of the backing memory in bytes (0 before allocation); the last one may be shorter.</summary>
    public long SegmentSize => (Volatile.Read(ref _layout)?.SegmentPages ?? 0) * DmaBuffer.PageSize;

    /// <inheritdoc />
    protected internal override void Attach(DmaBufAttachment attachment)
    {
        long pages = attachment.Buffer.PageCount;
        var collated = CollatedConstraints.Of(attachment);
        if (collated.SegmentPages(pages, PreferredSegmentSize / DmaBuffer.PageSize) == 0)
        {
            throw new DmaBufException(Errno.EINVAL, $"The constraints of {collated.Describe(attachment.Device)} together with the attached devices cannot be met for {attachment.Buffer} of {pages} pages (EINVAL).");
        }

        Layout? layout = Prepared(attachment.Buffer);
        if (layout is not null && !CollatedConstraints.Of(new[] { attachment.Device }).Accepts(layout.SegmentPages, layout.Segments.Length))
        {
            throw new DmaBufException(Errno.EBUSY, $"{attachment.Buffer} is already backed by {layout.Segments.Length} segment(s) of {layout.SegmentPages * DmaBuffer.PageSize} bytes, which {attachment.Device.Name} cannot take, and the system heap does not migrate mapped buffers (EBUSY).");
        }
    }

    /// <inheritdoc />
    protected internal override ScatterGatherTable MapDmaBuf(DmaBufAttachment attachment, DmaDataDirection direction)
    {
        DmaBuffer buffer = attachment.Buffer;
        Layout layout = EnsureAllocated(buffer);
        var entries = new ScatterGatherEntry[layout.Segments.Length];
        var backing = new TableSegment[entries.Length];
        long remaining = buffer.Size;
        for (int i = 0; i < entries.Length; i++)
        {
            PageBlock segment = layout.Segments[i];
            long length = Math.Min(segment.Length, remaining);
            entries[i] = new ScatterGatherEntry((ulong)segment.Address, length);
            backing[i] = new TableSegment(segment.Array, segment.Offset);
            remaining -= length;
        }

        return new ScatterGatherTable(entries, backing);
    }

    /// <inheritdoc />
    protected internal override void UnmapDmaBuf(DmaBufAttachment attachment, ScatterGatherTable table)
    {
    }

    /// <inheritdoc />
    protected internal override void Release(DmaBuffer buffer)
    {
        if (BufferMemory.Drop(ref _layout, _lock, buffer) is { } layout)
        {
            foreach (PageBlock segment in layout.Segments)
            {
                DmaBufMemory.Return(segment);
            }
        }
    }

    /// <inheritdoc />
    protected internal override void BeginCpuAccess(DmaBuffer buffer, long start, long length, DmaDataDirection direction) =>
        EnsureAllocated(buffer);

    /// <inheritdoc />
    /// <remarks>
    /// Never blocks: the memory is allocated by <see cref="DmaBuffer.BeginCpuAccess(long, long, DmaDataDirection)"/> or the first map, which may
    /// block. An atomic kmap with neither before it (undefined in the kernel) fails with <see cref="Errno.EINVAL"/>
    /// instead of allocating under a lock.
    /// </remarks>
    protected internal override nint KmapAtomic(DmaBuffer buffer, long pageNumber) =>
        PageOf(Prepared(buffer) ?? throw NotPrepared(buffer), pageNumber).Address;

    /// <inheritdoc />
    protected internal override nint Kmap(DmaBuffer buffer, long pageNumber) =>
        PageOf(Prepared(buffer) ?? EnsureAllocated(buffer), pageNumber).Address;

    /// <inheritdoc />
    internal override PageLocation MapPage(DmaBuffer buffer, long pageNumber, bool atomic) =>
        PageOf(Prepared(buffer) ?? (atomic ? throw NotPrepared(buffer) : EnsureAllocated(buffer)), pageNumber);

    /// <inheritdoc />
    internal override bool TryMapPage(DmaBuffer buffer, long pageNumber, out PageLocation location)
    {
        if (Prepared(buffer) is { } layout)
        {
            location = PageOf(layout, pageNumber);
            return true;
        }

        location = default;
        return false;
    }

    /// <inheritdoc />
    /// <remarks>
    /// The whole buffer is one block of page memory, so the vmap is that block; it allocates the memory if nothing did
    /// yet. A buffer larger than one block (about 2 GiB) has no linear view and is refused with <see cref="Errno.ENOMEM"/>,
    /// as the kernel's vmap fails when it runs out of vmalloc space.
    /// </remarks>
    protected internal override nint Vmap(DmaBuffer buffer) => MapBuffer(buffer).Address;

    /// <inheritdoc />
    internal override PageLocation MapBuffer(DmaBuffer buffer)
    {
        Layout layout = Prepared(buffer) ?? EnsureAllocated(buffer);
        PageBlock whole = layout.Whole ?? throw new DmaBufException(
            Errno.ENOMEM,
            $"{buffer} of {layout.Bytes} bytes is larger than one block of page memory ({DmaBufMemory.MaxBlockBytes} bytes), so it has no linear view to vmap (ENOMEM).");
        return new PageLocation(whole.Address, whole.Array, whole.Offset);
    }

    internal static DmaBufException NotPrepared(DmaBuffer buffer) =>
        new(Errno.EINVAL, $"KmapAtomic on {buffer} before any BeginCpuAccess or MapAttachment: the backing memory is prepared there, and an atomic kmap must not block to allocate it (EINVAL).");

    private static PageLocation PageOf(Layout layout, long pageNumber)
    {
        long index = layout.Shift >= 0 ? pageNumber >> layout.Shift : pageNumber / layout.SegmentPages;
        long within = (pageNumber - (index * layout.SegmentPages)) * DmaBuffer.PageSize;
        PageBlock segment = layout.Segments[index];
        return new PageLocation(segment.Address + (nint)within, segment.Array, segment.Offset + (int)within);
    }

    private Layout? Prepared(DmaBuffer buffer) => BufferMemory.Prepared(ref _layout, buffer);

    private Layout EnsureAllocated(DmaBuffer buffer) => BufferMemory.Ensure(ref _layout, _lock, buffer, Allocate);

    private static Layout Allocate(DmaBuffer buffer)
    {
        var devices = new List<Device>();
        foreach (DmaBufAttachment attachment in buffer.Attachments)
        {
            devices.Add(attachment.Device);
        }

        long pages = buffer.PageCount;
        long segmentPages = CollatedConstraints.Of(devices).SegmentPages(pages, PreferredSegmentSize / DmaBuffer.PageSize);
        if (segmentPages == 0)
        {
            throw new DmaBufException(Errno.EINVAL, $"The attached devices' constraints cannot be met for {buffer} (EINVAL).");
        }

        DmaBufMemory.CheckBudget(pages * DmaBuffer.PageSize, buffer);
        long count = (pages + segmentPages - 1) / segmentPages;
        var segments = new PageBlock[count];
        if (pages * DmaBuffer.PageSize <= DmaBufMemory.MaxBlockBytes)
        {
            // One block cut into the segments, so that a vmap is one linear view of the whole buffer.
            PageBlock whole = DmaBufMemory.Allocate(pages * DmaBuffer.PageSize);
            for (long i = 0; i < count; i++)
            {
                long start = i * segmentPages * DmaBuffer.PageSize;
                segments[i] = new PageBlock(whole, start, Math.Min(segmentPages * DmaBuffer.PageSize, whole.Length - start));
            }

            return new Layout(buffer, segments, segmentPages, whole);
        }

        try
        {
            for (long i = 0; i < count; i++)
            {
                segments[i] = DmaBufMemory.Allocate(Math.Min(segmentPages, pages - (i * segmentPages)) * DmaBuffer.PageSize);
            }
        }
        catch
        {
            foreach (PageBlock? segment in segments)
            {
                if (segment is not null)
                {
                    DmaBufMemory.Return(segment);
                }
            }

            throw;
        }

        return new Layout(buffer, segments, segmentPages, whole: null);
    }

    /// <summary>The allocated memory of one buffer, immutable: read with one load, so no caller ever sees half of it.</summary>
    private sealed class Layout : BufferMemory
    {
        public Layout(DmaBuffer owner, PageBlock[] segments, long segmentPages, PageBlock? whole)
            : base(owner)
        {
            Segments = segments;
            Whole = whole;
            SegmentPages = segmentPages;
            Shift = BitOperations.IsPow2(segmentPages) ? BitOperations.Log2((ulong)segmentPages) : -1;
            foreach (PageBlock segment in segments)
            {
                Bytes += segment.Length;
            }
        }

        public PageBlock[] Segments { get; }

        /// <summary>The one block the segments are cut from, or null for a buffer larger than one block (its segments are blocks of their own).</summary>
        public PageBlock? Whole { get; }

        public long SegmentPages { get; }

        /// <summary>log2 of <see cref="SegmentPages"/> when it is a power of two, else -1.</summary>
        public int Shift { get; }

        public long Bytes { get; }
    }
}
