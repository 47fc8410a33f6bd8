using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;

namespace DmaBuf;

/// <summary>One segment of a <see cref="ScatterGatherTable"/>: a DMA address and a length, as a <c>struct scatterlist</c> entry.</summary>
/// <param name="DmaAddress">The address the device uses for the segment (<c>sg_dma_address</c>).</param>
/// <param name="Length">The segment's length in bytes (<c>sg_dma_len</c>).</param>
public readonly record struct ScatterGatherEntry(ulong DmaAddress, long Length);

/// <summary>
/// The kernel's <c>struct sg_table</c>: the DMA segments through which one attached device reaches the buffer,
/// returned by <see cref="DmaBuffer.MapAttachment"/> and given back to <see cref="DmaBuffer.UnmapAttachment"/>.
/// Exporters create it in their <c>MapDmaBuf</c> callback.
/// </summary>
public sealed class ScatterGatherTable
{
    private readonly ScatterGatherEntry[] _entries;
    private volatile bool _mapped;

    /// <summary>Creates a table from its segments (an exporter's <c>map_dma_buf</c> builds it).</summary>
    /// <param name="entries">The segments, in buffer order.</param>
    /// <exception cref="ArgumentNullException"><paramref name="entries"/> is null.</exception>
    /// <exception cref="ArgumentException">There is no segment, or a segment's length is not positive.</exception>
    public ScatterGatherTable(IEnumerable<ScatterGatherEntry> entries)
    {
        if (entries is null)
        {
            throw new ArgumentNullException(nameof(entries));
        }

        _entries = new List<ScatterGatherEntry>(entries).ToArray();
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

            total = checked(total + entry.Length);
        }

        TotalLength = total;
        Entries = new ReadOnlyCollection<ScatterGatherEntry>(_entries);
    }

    /// <summary>The segments (<c>sgl</c>, <c>nents</c>).</summary>
    public IReadOnlyList<ScatterGatherEntry> Entries { get; }

    /// <summary>The sum of the segments' lengths.</summary>
    public long TotalLength { get; }

    /// <summary>The attachment the table was mapped for, once <see cref="DmaBuffer.MapAttachment"/> has returned it.</summary>
    public DmaBufAttachment? Attachment { get; private set; }

    /// <summary>The direction the table was mapped with.</summary>
    public DmaDataDirection Direction { get; private set; }

    /// <summary>Whether the table is mapped: true from <see cref="DmaBuffer.MapAttachment"/> until <see cref="DmaBuffer.UnmapAttachment"/>.</summary>
    public bool IsMapped => _mapped;

    internal void Bind(DmaBufAttachment attachment, DmaDataDirection direction)
    {
        if (Attachment is not null)
        {
            throw new InvalidOperationException("The exporter returned a scatter-gather table that was already mapped; map_dma_buf must return a new table.");
        }

        Attachment = attachment;
        Direction = direction;
        _mapped = true;
    }

    internal void MarkUnmapped() => _mapped = false;

    internal IEnumerable<(nint Address, long Length)> Walk(long offset, long count)
    {
        long position = 0;
        foreach (ScatterGatherEntry entry in _entries)
        {
            if (count == 0)
            {
                yield break;
            }

            long end = position + entry.Length;
            if (offset < end)
            {
                long inner = offset - position;
                long take = Math.Min(entry.Length - inner, count);
                yield return ((nint)(long)(entry.DmaAddress + (ulong)inner), take);
                offset += take;
                count -= take;
            }

            position = end;
        }
    }
}
