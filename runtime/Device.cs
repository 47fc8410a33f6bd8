// A device that takes part in buffer sharing: its DMA constraints, and its reads and writes through a mapped table.
using System;
using System.Runtime.InteropServices;

namespace DmaBuf;

/// <summary>
/// A device that takes part in buffer sharing: the kernel's <c>struct device</c>, with the DMA constraints
/// (<c>dma_parms</c>, coherent mask) that an exporter must honour when it backs and maps a buffer.
/// A device reads and writes memory only through a <see cref="ScatterGatherTable"/> mapped for one of its attachments.
/// </summary>
public sealed class Device
{
    private readonly long _maxSegmentSize = long.MaxValue;
    private readonly int _maxSegmentCount = int.MaxValue;

    /// <summary>Creates a device.</summary>
    /// <param name="name">The device's name, used in messages.</param>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    public Device(string name)
    {
        Name = name ?? throw new ArgumentNullException(nameof(name));
    }

    /// <summary>The device's name.</summary>
    public string Name { get; }

    /// <summary>
    /// The largest DMA segment, in bytes, the device can take (the kernel's <c>dma_parms.max_segment_size</c>).
    /// Unlimited by default. Exporters use whole pages, so a value below <see cref="DmaBuffer.PageSize"/> cannot be met.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive.</exception>
    public long MaxSegmentSize
    {
        get => _maxSegmentSize;
        init => _maxSegmentSize = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(MaxSegmentSize), value, "The maximum segment size must be positive.");
    }

    /// <summary>The largest number of segments in one scatter-gather table the device can take. Unlimited by default.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive.</exception>
    public int MaxSegmentCount
    {
        get => _maxSegmentCount;
        init => _maxSegmentCount = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(MaxSegmentCount), value, "The maximum segment count must be positive.");
    }

    /// <summary>Whether the device needs the whole buffer as one contiguous DMA segment (a device without an IOMMU).</summary>
    public bool RequiresContiguous { get; init; }

    /// <summary>
    /// The device writes <paramref name="source"/> into the buffer by DMA, at <paramref name="offset"/> bytes into
    /// <paramref name="table"/>, which must be mapped for one of this device's attachments with
    /// <see cref="DmaDataDirection.FromDevice"/> or <see cref="DmaDataDirection.Bidirectional"/>.
    /// </summary>
    /// <param name="table">A table mapped for this device.</param>
    /// <param name="offset">The byte offset into the table's segments.</param>
    /// <param name="source">The bytes the device writes.</param>
    /// <exception cref="ArgumentNullException"><paramref name="table"/> is null.</exception>
    /// <exception cref="ArgumentException">The table is not mapped for this device, or its direction does not allow the device to write.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The range is outside the table.</exception>
    /// <exception cref="ObjectDisposedException">The table's buffer has been released.</exception>
    public void DmaWrite(ScatterGatherTable table, long offset, ReadOnlySpan<byte> source)
    {
        CheckTransfer(table, offset, source.Length, write: true);

        // Only read from: the table copies source into its segments.
        table.Transfer(offset, MemoryMarshal.CreateSpan(ref MemoryMarshal.GetReference(source), source.Length), toTable: true);
    }

    /// <summary>
    /// The device reads from the buffer by DMA into <paramref name="destination"/>, at <paramref name="offset"/>
    /// bytes into <paramref name="table"/>, which must be mapped for one of this device's attachments with
    /// <see cref="DmaDataDirection.ToDevice"/> or <see cref="DmaDataDirection.Bidirectional"/>.
    /// </summary>
    /// <param name="table">A table mapped for this device.</param>
    /// <param name="offset">The byte offset into the table's segments.</param>
    /// <param name="destination">Where the device puts what it read.</param>
    /// <exception cref="ArgumentNullException"><paramref name="table"/> is null.</exception>
    /// <exception cref="ArgumentException">The table is not mapped for this device, or its direction does not allow the device to read.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The range is outside the table.</exception>
    /// <exception cref="ObjectDisposedException">The table's buffer has been released.</exception>
    public void DmaRead(ScatterGatherTable table, long offset, Span<byte> destination)
    {
        CheckTransfer(table, offset, destination.Length, write: false);
        table.Transfer(offset, destination, toTable: false);
    }

    private void CheckTransfer(ScatterGatherTable table, long offset, int count, bool write)
    {
        if (table is null)
        {
            throw new ArgumentNullException(nameof(table));
        }

        DmaBufAttachment? attachment = table.Attachment;
        if (attachment is null || !table.IsMapped)
        {
            // The release marks the buffer released before it unmaps the tables, so this sees a racing release too.
            if (attachment is not null && attachment.Buffer.IsReleased)
            {
                throw attachment.Buffer.ReleasedException();
            }

            throw new ArgumentException("The scatter-gather table is not mapped; a device may only use a table between MapAttachment and UnmapAttachment.", nameof(table));
        }

        if (!ReferenceEquals(attachment.Device, this))
        {
            throw new ArgumentException($"The scatter-gather table is mapped for device '{attachment.Device.Name}', not for '{Name}'.", nameof(table));
        }

        DmaDataDirection direction = table.Direction;
        bool allowed = direction == DmaDataDirection.Bidirectional
            || (write ? direction == DmaDataDirection.FromDevice : direction == DmaDataDirection.ToDevice);
        if (!allowed)
        {
            throw new ArgumentException($"The table is mapped {direction}; the device may not {(write ? "write to" : "read from")} it.", nameof(table));
        }

        if (offset < 0 || offset > table.TotalLength || count > table.TotalLength - offset)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"The transfer of {count} bytes at offset {offset} is outside the table's {table.TotalLength} bytes.");
        }
    }

    /// <inheritdoc />
    public override string ToString() => Name;
}
