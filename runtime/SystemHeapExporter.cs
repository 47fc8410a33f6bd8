using System;
using System.Collections.Generic;
using System.Numerics;
using System.Threading;

namespace DmaBuf;

/// <summary>
/// An exporter backed by page-aligned native memory, like the kernel's system heap. The memory is allocated
/// lazily, at the first <see cref="DmaBuffer.MapAttachment"/> (or CPU access), from the collated constraints
/// of the devices attached so far (the seed: "collate the requirements of the attached devices"), laid out
/// in equal segments; it is freed at release. CPU access is coherent: the CPU and devices see the same memory.
/// </summary>
/// <remarks>
/// Once the memory is allocated it is not migrated: a later <see cref="DmaBuffer.Attach"/> of a device whose
/// constraints the layout does not meet is refused with <see cref="Errno.EBUSY"/>. A device whose constraints
/// cannot be met at all is refused with <see cref="Errno.EINVAL"/>.
/// </remarks>
public sealed class SystemHeapExporter : DmaBufExporter
{
    /// <summary>The segment size used when no attached device asks for smaller or fewer segments: 1 MiB.</summary>
    public const long PreferredSegmentSize = 1L << 20;

    private readonly object _lock = new();
    private nint[]? _segments;
    private long _segmentPages;
    private int _segmentShift = -1;
    private long _allocatedBytes;

    /// <summary>Creates the exporter; export a buffer with it through <see cref="DmaBuffer.Export"/>.</summary>
    public SystemHeapExporter()
    {
    }

    /// <summary>The native bytes this exporter holds now (0 before the first map and after release).</summary>
    public long AllocatedBytes => Interlocked.Read(ref _allocatedBytes);

    /// <summary>Whether the backing memory has been allocated.</summary>
    public bool IsAllocated => Volatile.Read(ref _segments) is not null;

    /// <summary>The size of each segment of the backing memory in bytes (0 before allocation); the last one may be shorter.</summary>
    public long SegmentSize => _segmentPages * DmaBuffer.PageSize;

    /// <inheritdoc />
    protected internal override void Attach(DmaBufAttachment attachment)
    {
        long pages = attachment.Buffer.PageCount;
        var collated = CollatedConstraints.Of(attachment);
        if (collated.SegmentPages(pages, PreferredSegmentSize / DmaBuffer.PageSize) == 0)
        {
            throw new DmaBufException(Errno.EINVAL, $"The constraints of {collated.Describe(attachment.Device)} together with the attached devices cannot be met for {attachment.Buffer} of {pages} pages (EINVAL).");
        }

        lock (_lock)
        {
            nint[]? segments = _segments;
            if (segments is not null && !CollatedConstraints.Of(new[] { attachment.Device }).Accepts(_segmentPages, segments.Length))
            {
                throw new DmaBufException(Errno.EBUSY, $"{attachment.Buffer} is already backed by {segments.Length} segment(s) of {SegmentSize} bytes, which {attachment.Device.Name} cannot take, and the system heap does not migrate mapped buffers (EBUSY).");
            }
        }
    }

    /// <inheritdoc />
    protected internal override ScatterGatherTable MapDmaBuf(DmaBufAttachment attachment, DmaDataDirection direction)
    {
        DmaBuffer buffer = attachment.Buffer;
        nint[] segments = EnsureAllocated(buffer);
        var entries = new List<ScatterGatherEntry>(segments.Length);
        long remaining = buffer.Size;
        long segmentBytes = SegmentSize;
        foreach (nint segment in segments)
        {
            long length = Math.Min(segmentBytes, remaining);
            entries.Add(new ScatterGatherEntry((ulong)segment, length));
            remaining -= length;
        }

        return new ScatterGatherTable(entries);
    }

    /// <inheritdoc />
    protected internal override void UnmapDmaBuf(DmaBufAttachment attachment, ScatterGatherTable table)
    {
    }

    /// <inheritdoc />
    protected internal override void Release(DmaBuffer buffer)
    {
        lock (_lock)
        {
            nint[]? segments = _segments;
            if (segments is null)
            {
                return;
            }

            long pages = buffer.PageCount;
            for (int i = 0; i < segments.Length; i++)
            {
                DmaBufMemory.Free(segments[i], SegmentBytes(i, pages));
            }

            _segments = null;
            _segmentPages = 0;
            Interlocked.Exchange(ref _allocatedBytes, 0);
        }
    }

    /// <inheritdoc />
    protected internal override void BeginCpuAccess(DmaBuffer buffer, long start, long length, DmaDataDirection direction) =>
        EnsureAllocated(buffer);

    /// <inheritdoc />
    /// <remarks>
    /// Never blocks: the memory is allocated by <see cref="DmaBuffer.BeginCpuAccess"/> or the first map, which may
    /// block. An atomic kmap with neither before it (undefined in the kernel) fails with <see cref="Errno.EINVAL"/>
    /// instead of allocating under a lock.
    /// </remarks>
    protected internal override nint KmapAtomic(DmaBuffer buffer, long pageNumber) =>
        PageAddress(Volatile.Read(ref _segments) ?? throw NotPrepared(buffer), pageNumber);

    /// <inheritdoc />
    protected internal override nint Kmap(DmaBuffer buffer, long pageNumber) =>
        PageAddress(Volatile.Read(ref _segments) ?? EnsureAllocated(buffer), pageNumber);

    internal static DmaBufException NotPrepared(DmaBuffer buffer) =>
        new(Errno.EINVAL, $"KmapAtomic on {buffer} before any BeginCpuAccess or MapAttachment: the backing memory is prepared there, and an atomic kmap must not block to allocate it (EINVAL).");

    private nint PageAddress(nint[] segments, long pageNumber)
    {
        int shift = _segmentShift;
        if (shift >= 0)
        {
            return segments[pageNumber >> shift] + (nint)((pageNumber & ((1L << shift) - 1)) * DmaBuffer.PageSize);
        }

        long index = pageNumber / _segmentPages;
        return segments[index] + (nint)((pageNumber - (index * _segmentPages)) * DmaBuffer.PageSize);
    }

    private long SegmentBytes(int index, long pages) =>
        Math.Min(_segmentPages, pages - (index * _segmentPages)) * DmaBuffer.PageSize;

    private nint[] EnsureAllocated(DmaBuffer buffer)
    {
        if (Volatile.Read(ref _segments) is { } existing)
        {
            return existing;
        }

        // The runtime calls Attach and MapDmaBuf with the buffer's gate held, so take the gate first here too:
        // the layout then sees every device attached before it, and no attach slips in between.
        lock (buffer.Gate)
        lock (_lock)
        {
            if (_segments is not null)
            {
                return _segments;
            }

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

            long count = (pages + segmentPages - 1) / segmentPages;
            if (count > int.MaxValue)
            {
                throw new DmaBufException(Errno.ENOMEM, $"{buffer} would need {count} segments (ENOMEM).");
            }

            var segments = new nint[count];
            _segmentPages = segmentPages;
            long allocated = 0;
            try
            {
                for (int i = 0; i < segments.Length; i++)
                {
                    long bytes = SegmentBytes(i, pages);
                    segments[i] = DmaBufMemory.Allocate(bytes);
                    allocated += bytes;
                }
            }
            catch
            {
                for (int i = 0; i < segments.Length && segments[i] != 0; i++)
                {
                    DmaBufMemory.Free(segments[i], SegmentBytes(i, pages));
                }

                _segmentPages = 0;
                throw;
            }

            _segmentShift = BitOperations.IsPow2(segmentPages) ? BitOperations.Log2((ulong)segmentPages) : -1;
            Interlocked.Exchange(ref _allocatedBytes, allocated);
            Volatile.Write(ref _segments, segments);
            return segments;
        }
    }
}
