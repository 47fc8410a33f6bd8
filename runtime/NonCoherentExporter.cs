using System;
using System.Collections.Generic;
using System.Threading;

namespace DmaBuf;

/// <summary>
/// An exporter that models a CPU cache in front of device memory, so that what the seed calls undefined is
/// observable. Devices read and write the device memory through their mapped tables; the CPU sees its own view
/// through kmap. <see cref="DmaBuffer.BeginCpuAccess"/> brings only the begun byte range into the CPU view
/// (for <see cref="DmaDataDirection.FromDevice"/> and <see cref="DmaDataDirection.Bidirectional"/>);
/// <see cref="DmaBuffer.EndCpuAccess"/> writes back only that range (for <see cref="DmaDataDirection.ToDevice"/>
/// and <see cref="DmaDataDirection.Bidirectional"/>). Everything outside the range stays stale, and CPU writes
/// that are never ended never reach the device.
/// </summary>
public sealed class NonCoherentExporter : DmaBufExporter
{
    private readonly object _lock = new();
    private nint _deviceMemory;
    private nint _cpuView;
    private long _bytes;

    /// <summary>Creates the exporter; export a buffer with it through <see cref="DmaBuffer.Export"/>.</summary>
    public NonCoherentExporter()
    {
    }

    /// <summary>The native bytes this exporter holds now: device memory and CPU view (0 before first use and after release).</summary>
    public long AllocatedBytes
    {
        get
        {
            lock (_lock)
            {
                return _deviceMemory == 0 ? 0 : 2 * _bytes;
            }
        }
    }

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
        nint device = EnsureAllocated(buffer).Device;
        long pages = buffer.PageCount;
        long segmentBytes = CollatedConstraints.Of(new[] { attachment.Device }).SegmentPages(pages, pages) * DmaBuffer.PageSize;
        var entries = new List<ScatterGatherEntry>();
        for (long offset = 0; offset < buffer.Size; offset += segmentBytes)
        {
            entries.Add(new ScatterGatherEntry((ulong)(device + (nint)offset), Math.Min(segmentBytes, buffer.Size - offset)));
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
            if (_deviceMemory == 0)
            {
                return;
            }

            DmaBufMemory.Free(_deviceMemory, _bytes);
            DmaBufMemory.Free(_cpuView, _bytes);
            _deviceMemory = 0;
            _cpuView = 0;
        }
    }

    /// <inheritdoc />
    protected internal override unsafe void BeginCpuAccess(DmaBuffer buffer, long start, long length, DmaDataDirection direction)
    {
        var (device, cpu) = EnsureAllocated(buffer);
        if (direction is DmaDataDirection.FromDevice or DmaDataDirection.Bidirectional)
        {
            System.Buffer.MemoryCopy((void*)(device + (nint)start), (void*)(cpu + (nint)start), length, length);
        }
    }

    /// <inheritdoc />
    protected internal override unsafe void EndCpuAccess(DmaBuffer buffer, long start, long length, DmaDataDirection direction)
    {
        var (device, cpu) = EnsureAllocated(buffer);
        if (direction is DmaDataDirection.ToDevice or DmaDataDirection.Bidirectional)
        {
            System.Buffer.MemoryCopy((void*)(cpu + (nint)start), (void*)(device + (nint)start), length, length);
        }
    }

    /// <inheritdoc />
    /// <remarks>Never blocks: an atomic kmap before any begin or map (undefined in the kernel) fails with <see cref="Errno.EINVAL"/> instead of allocating under a lock.</remarks>
    protected internal override nint KmapAtomic(DmaBuffer buffer, long pageNumber)
    {
        nint cpu = Volatile.Read(ref _cpuView);
        return (cpu != 0 ? cpu : throw SystemHeapExporter.NotPrepared(buffer)) + (nint)(pageNumber * DmaBuffer.PageSize);
    }

    /// <inheritdoc />
    protected internal override nint Kmap(DmaBuffer buffer, long pageNumber) => CpuView(buffer) + (nint)(pageNumber * DmaBuffer.PageSize);

    private nint CpuView(DmaBuffer buffer)
    {
        nint cpu = Volatile.Read(ref _cpuView);
        return cpu != 0 ? cpu : EnsureAllocated(buffer).Cpu;
    }

    private (nint Device, nint Cpu) EnsureAllocated(DmaBuffer buffer)
    {
        lock (_lock)
        {
            if (_deviceMemory == 0)
            {
                long bytes = buffer.PageCount * DmaBuffer.PageSize;
                nint device = DmaBufMemory.Allocate(bytes);
                try
                {
                    _cpuView = DmaBufMemory.Allocate(bytes);
                }
                catch
                {
                    DmaBufMemory.Free(device, bytes);
                    throw;
                }

                _bytes = bytes;
                Volatile.Write(ref _deviceMemory, device);
            }

            return (_deviceMemory, _cpuView);
        }
    }
}
