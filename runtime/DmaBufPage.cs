// A mapped page (the kmap's void *) and the CPU-access scope: the two disposable values the CPU-access calls return.
using System;
using System.Runtime.CompilerServices;

namespace DmaBuf;

/// <summary>
/// One page of a buffer mapped into the CPU's address space: the <c>void *</c> that <c>dma_buf_kmap</c> or
/// <c>dma_buf_kmap_atomic</c> returns. <see cref="Span"/> is exactly that page, with no copy.
/// Disposing the page unmaps it with the matching call (<see cref="DmaBuffer.Kunmap"/> or
/// <see cref="DmaBuffer.KunmapAtomic"/>), so <c>using var page = buf.KmapAtomic(n);</c> is correct.
/// </summary>
/// <remarks>
/// A copy of the value is the same mapping: once it is unmapped (or its buffer released), <see cref="Span"/> of every
/// copy throws <see cref="ObjectDisposedException"/>, and a second unmap is refused. A <see cref="Span{T}"/> taken
/// before the unmap still reaches the page's bytes: with the shipped exporters that is memory of this buffer alone,
/// kept alive by the span, so the worst a late use does is read stale bytes or write bytes nobody may read again
/// (after <see cref="DmaBuffer.EndCpuAccess(long, long, DmaDataDirection)"/> they may not reach the device). It never reaches another buffer's memory,
/// nor freed memory. See DESIGN §2, "Memory safety", and <c>docs/runtime-safety.md</c>.
/// </remarks>
public readonly struct DmaBufPage : IDisposable, IEquatable<DmaBufPage>
{
    private readonly DmaBuffer? _buffer;
    private readonly long[]? _slotChunk;
    private readonly byte[]? _memory;
    private readonly long _live;
    private readonly int _slot;
    private readonly int _offset;

    internal DmaBufPage(DmaBuffer buffer, long pageNumber, bool isAtomic, in PageLocation location, long[] slotChunk, int slot, long live)
    {
        _buffer = buffer;
        PageNumber = pageNumber;
        Address = location.Address;
        IsAtomic = isAtomic;
        _memory = location.Array;
        _offset = location.Offset;
        _slotChunk = slotChunk;
        _slot = slot;
        _live = live;
    }

    /// <summary>The page number within the buffer (the kernel's <c>page_num</c>).</summary>
    public long PageNumber { get; }

    /// <summary>The page's address in the CPU's address space (the kernel's <c>vaddr</c>); only valid while the page is mapped.</summary>
    public nint Address { get; }

    /// <summary>Whether the page was mapped with <see cref="DmaBuffer.KmapAtomic"/>.</summary>
    public bool IsAtomic { get; }

    /// <summary>The buffer the page belongs to; null for a default value.</summary>
    public DmaBuffer? Buffer => _buffer;

    /// <summary>Whether this mapping is still mapped: false once it is unmapped or its buffer released, and for a default value.</summary>
    public bool IsMapped => _slotChunk is not null && MappingSlots.ValueOf(_slotChunk, _slot) == _live;

    internal long[]? SlotChunk => _slotChunk;

    internal int Slot => _slot;

    /// <summary>The value of the mapping's slot while the mapping is live.</summary>
    internal long LiveValue => _live;

    /// <summary>
    /// The page's bytes: exactly <see cref="DmaBuffer.PageSize"/> bytes at <see cref="Address"/>, with no copy.
    /// Empty for a default value.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The mapping has been unmapped, or its buffer released.</exception>
    public Span<byte> Span
    {
        get
        {
            long[]? chunk = _slotChunk;
            if (chunk is null)
            {
                return Span<byte>.Empty;
            }

            if (MappingSlots.ValueOf(chunk, _slot) != _live)
            {
                ThrowUnmapped();
            }

            return MappedMemory.Span(_memory, _offset, Address, 0, DmaBuffer.PageSize);
        }
    }

    /// <summary>Unmaps the page with the call that matches how it was mapped (<c>dma_buf_kunmap</c> or <c>dma_buf_kunmap_atomic</c>). Does nothing for a default value.</summary>
    /// <exception cref="ObjectDisposedException">The mapping is already unmapped (with the validator on, a <see cref="DmaBufUsageException"/> DMA0003), or its buffer released.</exception>
    public void Dispose()
    {
        if (_buffer is null)
        {
            return;
        }

        if (IsAtomic)
        {
            _buffer.KunmapAtomic(PageNumber, this);
        }
        else
        {
            _buffer.Kunmap(PageNumber, this);
        }
    }

    /// <inheritdoc />
    public bool Equals(DmaBufPage other) =>
        ReferenceEquals(_buffer, other._buffer) && PageNumber == other.PageNumber && Address == other.Address && IsAtomic == other.IsAtomic
        && ReferenceEquals(_slotChunk, other._slotChunk) && _slot == other._slot && _live == other._live;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is DmaBufPage other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(_buffer, PageNumber, Address, IsAtomic, _slot, _live);

    /// <summary>Whether two values are the same mapping.</summary>
    /// <param name="left">The first mapping.</param>
    /// <param name="right">The second mapping.</param>
    /// <returns>true if they are the same mapping.</returns>
    public static bool operator ==(DmaBufPage left, DmaBufPage right) => left.Equals(right);

    /// <summary>Whether two values are different mappings.</summary>
    /// <param name="left">The first mapping.</param>
    /// <param name="right">The second mapping.</param>
    /// <returns>true if they differ.</returns>
    public static bool operator !=(DmaBufPage left, DmaBufPage right) => !left.Equals(right);

    /// <inheritdoc />
    public override string ToString() => _buffer is null ? "(no page)" : $"page {PageNumber} of {_buffer}{(IsAtomic ? " (atomic)" : string.Empty)}";

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowUnmapped()
    {
        if (_buffer!.IsReleased)
        {
            throw _buffer.ReleasedException();
        }

        throw new ObjectDisposedException(ToString(), $"The mapping of {this} is unmapped; map the page again to use it.");
    }
}

/// <summary>
/// A begun CPU access that ends when disposed: <see cref="DmaBuffer.CpuAccess(long, long, DmaDataDirection)"/> and
/// <see cref="DmaBuffer.CpuAccess(DmaDataDirection)"/> call <c>dma_buf_begin_cpu_access</c>, and <see cref="Dispose"/>
/// calls <c>dma_buf_end_cpu_access</c> with the same start, length and direction, or for the whole buffer in the same
/// direction. Disposing twice ends the access once.
/// </summary>
public sealed class CpuAccessScope : IDisposable
{
    private readonly CpuAccessRange _range;
    private int _disposed;

    internal CpuAccessScope(DmaBuffer buffer, CpuAccessRange range)
    {
        Buffer = buffer;
        _range = range;
    }

    /// <summary>The buffer the access was begun on.</summary>
    public DmaBuffer Buffer { get; }

    /// <summary>The first byte of the begun range (0 for the whole buffer).</summary>
    public long Start => _range.Start;

    /// <summary>The length of the begun range in bytes (the buffer's size for the whole buffer).</summary>
    public long Length => _range.Length;

    /// <summary>The direction of the access.</summary>
    public DmaDataDirection Direction => _range.Direction;

    /// <summary>Whether the scope is a whole-buffer access (<see cref="DmaBuffer.CpuAccess(DmaDataDirection)"/>), ended with <see cref="DmaBuffer.EndCpuAccess(DmaDataDirection)"/>.</summary>
    public bool IsWholeBuffer => _range.IsWholeBuffer;

    /// <summary>Whether the access has been ended by <see cref="Dispose"/>.</summary>
    public bool IsEnded => _disposed != 0;

    /// <summary>Ends the CPU access (<c>dma_buf_end_cpu_access</c>) as it was begun, over the range or the whole buffer; later calls do nothing.</summary>
    [MightSleep]
    public void Dispose()
    {
        if (System.Threading.Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            if (_range.IsWholeBuffer)
            {
                Buffer.EndCpuAccess(Direction);
            }
            else
            {
                Buffer.EndCpuAccess(Start, Length, Direction);
            }
        }
        catch
        {
            // A failed end changes nothing, so the scope may be disposed again.
            _disposed = 0;
            throw;
        }
    }
}
