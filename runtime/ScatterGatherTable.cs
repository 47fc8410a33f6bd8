// The scatter-gather table (struct sg_table): its segments, the attachment and direction it was mapped with, whether it
// is still mapped, and, for the shipped exporters, the page memory behind each segment, which a device transfer copies
// through so that a table used after its buffer's release never reaches freed memory.
using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Threading;

namespace DmaBuf;

/// <summary>One segment of a <see cref="ScatterGatherTable"/>: a DMA address and a length, as a <c>struct scatterlist</c> entry.</summary>
/// <param name="DmaAddress">The address the device uses for the segment (<c>sg_dma_address</c>).</param>
/// <param name="Length">The segment's length in bytes (<c>sg_dma_len</c>).</param>
public readonly record struct ScatterGatherEntry(ulong DmaAddress, long Length);

/// <summary>The page memory behind one segment of a shipped exporter's table: the array, and the index of the segment's first byte.</summary>
internal readonly record struct TableSegment(byte[] Array, int Offset);

/// <summary>
/// The kernel's <c>struct sg_table</c>: the DMA segments through which one attached device reaches the buffer,
/// returned by <see cref="DmaBuffer.MapAttachment"/> and given back to <see cref="DmaBuffer.UnmapAttachment"/>.
/// Exporters create it in their <c>MapDmaBuf</c> callback, a new one for every map.
/// </summary>
/// <remarks>
/// The table is usable by its device from <see cref="DmaBuffer.MapAttachment"/> until <see cref="DmaBuffer.UnmapAttachment"/>,
/// the <see cref="DmaBuffer.Detach"/> of its attachment, or the release of its buffer, whichever comes first: after the
/// release, <see cref="Device.DmaRead"/> and <see cref="Device.DmaWrite"/> through it throw <see cref="ObjectDisposedException"/>.
/// </remarks>
public sealed class ScatterGatherTable
{
    private readonly ScatterGatherEntry[] _entries;
    private readonly TableSegment[]? _backing;
    private DmaBufAttachment? _attachment;
    private volatile bool _mapped;

    /// <summary>Creates a table from its segments (an exporter's <c>map_dma_buf</c> builds it).</summary>
    /// <param name="entries">The segments, in buffer order.</param>
    /// <exception cref="ArgumentNullException"><paramref name="entries"/> is null.</exception>
    /// <exception cref="ArgumentException">There is no segment, a segment's length is not positive, a segment runs past the end of the
    /// address space, or the lengths add up to more than <see cref="long.MaxValue"/>.</exception>
    public ScatterGatherTable(IEnumerable<ScatterGatherEntry> entries)
        : this(new List<ScatterGatherEntry>(entries ?? throw new ArgumentNullException(nameof(entries))).ToArray(), null)
    {
    }

    internal ScatterGatherTable(ScatterGatherEntry[] entries, TableSegment[]? backing)
    {
        _entries = entries;
        _backing = backing;
        if (_entries.Length == 0)
        {
            throw new ArgumentException("A scatter-gather table needs at least one segment.", nameof(entries));
        }

        long total = 0;
        foreach (ScatterGatherEntry entry in _entries)
        {
            if (entry.Length <= 0)
            {
                throw new ArgumentException("Every segment's length must be positive.", nameof(entries));
            }

            if (entry.DmaAddress > ulong.MaxValue - (ulong)entry.Length)
            {
                throw new ArgumentException($"The segment of {entry.Length} bytes at 0x{entry.DmaAddress:x} runs past the end of the address space.", nameof(entries));
            }

            if (entry.Length > long.MaxValue - total)
            {
                throw new ArgumentException($"The segments' lengths add up to more than {long.MaxValue} bytes.", nameof(entries));
            }

            total += entry.Length;
        }

        TotalLength = total;
        Entries = new ReadOnlyCollection<ScatterGatherEntry>(_entries);
    }

    /// <summary>The segments (<c>sgl</c>, <c>nents</c>).</summary>
    public IReadOnlyList<ScatterGatherEntry> Entries { get; }

    /// <summary>The sum of the segments' lengths.</summary>
    public long TotalLength { get; }

    /// <summary>The attachment the table was mapped for, once <see cref="DmaBuffer.MapAttachment"/> has returned it.</summary>
    public DmaBufAttachment? Attachment => Volatile.Read(ref _attachment);

    /// <summary>The direction the table was mapped with.</summary>
    public DmaDataDirection Direction { get; private set; }

    /// <summary>Whether the table is mapped: true from <see cref="DmaBuffer.MapAttachment"/> until it is unmapped, its attachment detached or its buffer released.</summary>
    public bool IsMapped => _mapped;

    /// <summary>Binds a table the exporter just returned; false if it was mapped before (an exporter must return a new table).</summary>
    internal bool TryBind(DmaBufAttachment attachment, DmaDataDirection direction)
    {
        if (Interlocked.CompareExchange(ref _attachment, attachment, null) is not null)
        {
            return false;
        }

        Direction = direction;
        _mapped = true;
        return true;
    }

    internal void MarkUnmapped() => _mapped = false;

    /// <summary>Copies between the table's segments and <paramref name="bytes"/>: through the page memory behind them for the shipped exporters, through the raw DMA addresses for the others.</summary>
    internal unsafe void Transfer(long offset, Span<byte> bytes, bool toTable)
    {
        long position = 0;
        int done = 0;
        for (int i = 0; i < _entries.Length && done < bytes.Length; i++)
        {
            ScatterGatherEntry entry = _entries[i];
            long end = position + entry.Length;
            if (offset < end)
            {
                long inner = offset - position;
                int take = (int)Math.Min(entry.Length - inner, bytes.Length - done);
                Span<byte> segment = _backing is { } backing
                    ? backing[i].Array.AsSpan(backing[i].Offset + (int)inner, take)
                    : new Span<byte>((void*)(nint)(long)(entry.DmaAddress + (ulong)inner), take);
                Span<byte> part = bytes.Slice(done, take);
                if (toTable)
                {
                    part.CopyTo(segment);
                }
                else
                {
                    segment.CopyTo(part);
                }

                offset += take;
                done += take;
            }

            position = end;
        }
    }
}
