using System;

namespace DmaBuf;

/// <summary>
/// One page of a buffer mapped into the CPU's address space: the <c>void *</c> that <c>dma_buf_kmap</c> or
/// <c>dma_buf_kmap_atomic</c> returns. <see cref="Span"/> is exactly that page, with no copy.
/// Disposing the page unmaps it with the matching call (<see cref="DmaBuffer.Kunmap"/> or
/// <see cref="DmaBuffer.KunmapAtomic"/>), so <c>using var page = buf.KmapAtomic(n);</c> is correct.
/// </summary>
public readonly struct DmaBufPage : IDisposable, IEquatable<DmaBufPage>
{
    private readonly DmaBuffer? _buffer;

    internal DmaBufPage(DmaBuffer buffer, long pageNumber, nint address, bool isAtomic, long token)
    {
        _buffer = buffer;
        PageNumber = pageNumber;
        Address = address;
        IsAtomic = isAtomic;
        Token = token;
    }

    /// <summary>The page number within the buffer (the kernel's <c>page_num</c>).</summary>
    public long PageNumber { get; }

    /// <summary>The page's address in the CPU's address space (the kernel's <c>vaddr</c>).</summary>
    public nint Address { get; }

    /// <summary>Whether the page was mapped with <see cref="DmaBuffer.KmapAtomic"/>.</summary>
    public bool IsAtomic { get; }

    /// <summary>The buffer the page belongs to; null for a default value.</summary>
    public DmaBuffer? Buffer => _buffer;

    /// <summary>The validator's identity of this mapping (0 when the validator did not track it).</summary>
    internal long Token { get; }

    /// <summary>
    /// The page's bytes: exactly <see cref="DmaBuffer.PageSize"/> bytes at <see cref="Address"/>, with no copy.
    /// Empty for a default value. Using it after the page is unmapped is undefined, as in the kernel.
    /// </summary>
    public unsafe Span<byte> Span => _buffer is null ? Span<byte>.Empty : new Span<byte>((void*)Address, DmaBuffer.PageSize);

    /// <summary>Unmaps the page with the call that matches how it was mapped (<c>dma_buf_kunmap</c> or <c>dma_buf_kunmap_atomic</c>). Does nothing for a default value.</summary>
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
    public bool Equals(DmaBufPage other) => ReferenceEquals(_buffer, other._buffer) && PageNumber == other.PageNumber && Address == other.Address && IsAtomic == other.IsAtomic && Token == other.Token;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is DmaBufPage other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(_buffer, PageNumber, Address, IsAtomic, Token);

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
}

/// <summary>
/// A begun CPU access that ends when disposed: <see cref="DmaBuffer.CpuAccess"/> calls
/// <c>dma_buf_begin_cpu_access</c>, and <see cref="Dispose"/> calls <c>dma_buf_end_cpu_access</c> with the
/// same start, length and direction. Disposing twice ends the access once.
/// </summary>
public sealed class CpuAccessScope : IDisposable
{
    private int _disposed;

    internal CpuAccessScope(DmaBuffer buffer, long start, long length, DmaDataDirection direction)
    {
        Buffer = buffer;
        Start = start;
        Length = length;
        Direction = direction;
    }

    /// <summary>The buffer the access was begun on.</summary>
    public DmaBuffer Buffer { get; }

    /// <summary>The first byte of the begun range.</summary>
    public long Start { get; }

    /// <summary>The length of the begun range in bytes.</summary>
    public long Length { get; }

    /// <summary>The direction of the access.</summary>
    public DmaDataDirection Direction { get; }

    /// <summary>Whether the access has been ended by <see cref="Dispose"/>.</summary>
    public bool IsEnded => _disposed != 0;

    /// <summary>Ends the CPU access (<c>dma_buf_end_cpu_access</c>) with the begun start, length and direction; later calls do nothing.</summary>
    [MightSleep]
    public void Dispose()
    {
        if (System.Threading.Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            Buffer.EndCpuAccess(Start, Length, Direction);
        }
        catch
        {
            // A failed end changes nothing, so the scope may be disposed again.
            _disposed = 0;
            throw;
        }
    }
}
