// A vmap of a whole buffer (the iosys_map that dma_buf_vmap fills in): the disposable value DmaBuffer.Vmap returns,
// with safe access to its bytes by range. Like a page, it carries its mapping slot and live value, so a stale copy is
// refused for the cost of one load and compare.
using System;
using System.Runtime.CompilerServices;

namespace DmaBuf;

/// <summary>
/// A mapping of a whole buffer into one linear range of the CPU's address space: what <c>dma_buf_vmap</c> returns.
/// Every vmap of a buffer shares one view (the exporter's <c>vmap</c> runs at the first and its <c>vunmap</c> at the
/// last), but each value <see cref="DmaBuffer.Vmap"/> returns is one mapping, unmapped once by
/// <see cref="DmaBuffer.Vunmap"/> or <see cref="Dispose"/>: <c>using var map = buf.Vmap();</c> is correct.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="GetSpan"/> gives the bytes of a range with no copy; the buffer may be longer than one span can be
/// (<see cref="Length"/> is a <see cref="long"/>). As the kernel says of <c>dma_buf_vmap</c>, coherency needs
/// <see cref="DmaBuffer.BeginCpuAccess(DmaDataDirection)"/> and <see cref="DmaBuffer.EndCpuAccess(DmaDataDirection)"/>
/// around the access; with the validator on, <see cref="GetSpan"/> with no CPU access begun on the buffer is DMA0007.
/// </para>
/// <para>
/// A copy of the value is the same mapping: once it is vunmapped (or its buffer released), <see cref="GetSpan"/> of every
/// copy throws <see cref="ObjectDisposedException"/>, and a second vunmap is refused, even while other vmaps of the
/// buffer keep the view mapped. A <see cref="Span{T}"/> taken before the vunmap still reaches the buffer's bytes: with
/// the shipped exporters that is memory of this buffer alone, kept alive by the span, so the worst a late use does is
/// read stale bytes or write bytes nobody may read again. It never reaches another buffer's memory, nor freed memory
/// (DESIGN §2, "Memory safety"; <c>docs/runtime-safety.md</c>).
/// </para>
/// </remarks>
public readonly struct DmaBufVmap : IDisposable, IEquatable<DmaBufVmap>
{
    // The shared view, and the vmap's own slot with the value it has while this vmap is live.
    private readonly PageLocation _view;
    private readonly DmaBuffer? _buffer;
    private readonly long[]? _slotChunk;
    private readonly long _live;
    private readonly int _slot;

    internal DmaBufVmap(DmaBuffer buffer, in PageLocation view, long[] slotChunk, int slot, long live)
    {
        (_buffer, _view) = (buffer, view);
        (_slotChunk, _slot, _live) = (slotChunk, slot, live);
    }

    /// <summary>The buffer this vmap maps; null for a default value.</summary>
    public DmaBuffer? Buffer => _buffer;

    /// <summary>The address of the buffer's first byte in the CPU's address space (the kernel's <c>map-&gt;vaddr</c>); only valid while the vmap is mapped.</summary>
    public nint Address => _view.Address;

    /// <summary>The number of bytes mapped: the buffer's <see cref="DmaBuffer.Size"/>; 0 for a default value.</summary>
    public long Length => _buffer?.Size ?? 0;

    /// <summary>Whether this vmap is still mapped: false once it is vunmapped or its buffer released, and for a default value.</summary>
    public bool IsMapped => _slotChunk is not null && MappingSlots.ValueOf(_slotChunk, _slot) == _live;

    internal long[]? SlotChunk => _slotChunk;

    internal int Slot => _slot;

    /// <summary>The value of the vmap's slot while it is live.</summary>
    internal long LiveValue => _live;

    /// <summary>
    /// The bytes <paramref name="offset"/> to <paramref name="offset"/> + <paramref name="length"/> of the buffer,
    /// with no copy. A default value has no bytes: only <c>GetSpan(0, 0)</c> is valid on it, and is empty.
    /// </summary>
    /// <param name="offset">The first byte, 0 to <see cref="Length"/>.</param>
    /// <param name="length">The number of bytes; the range must end within <see cref="Length"/>.</param>
    /// <returns>The span.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The range is negative or runs past the end.</exception>
    /// <exception cref="ObjectDisposedException">The vmap has been vunmapped, or its buffer released.</exception>
    /// <exception cref="DmaBufUsageException">With the validator on: no CPU access is begun on the buffer (DMA0007).</exception>
    public Span<byte> GetSpan(long offset, int length)
    {
        long size = Length;
        if (offset < 0 || length < 0 || offset > size - length)
        {
            ThrowOutOfRange(offset, length, size);
        }

        long[]? chunk = _slotChunk;
        if (chunk is null)
        {
            return Span<byte>.Empty;
        }

        if (MappingSlots.ValueOf(chunk, _slot) != _live)
        {
            ThrowUnmapped();
        }

        if (DmaBufValidation.s_enabled)
        {
            _buffer!.CheckVmapAccessBegun(offset, length);
        }

        return MappedMemory.Span(_view.Array, _view.Offset, _view.Address, offset, length);
    }

    /// <summary>Vunmaps this mapping (<see cref="DmaBuffer.Vunmap"/>). Does nothing for a default value.</summary>
    /// <exception cref="ObjectDisposedException">The vmap is already vunmapped (with the validator on, a <see cref="DmaBufUsageException"/> DMA0012), or its buffer released.</exception>
    [MightSleep]
    public void Dispose() => _buffer?.Vunmap(this);

    /// <inheritdoc />
    public bool Equals(DmaBufVmap other) =>
        ReferenceEquals(_buffer, other._buffer) && Address == other.Address && ReferenceEquals(_slotChunk, other._slotChunk) && _slot == other._slot && _live == other._live;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is DmaBufVmap other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(_buffer, Address, _slot, _live);

    /// <summary>Whether two values are the same mapping.</summary>
    /// <param name="left">The first mapping.</param>
    /// <param name="right">The second mapping.</param>
    /// <returns>true if they are the same mapping.</returns>
    public static bool operator ==(DmaBufVmap left, DmaBufVmap right) => left.Equals(right);

    /// <summary>Whether two values are different mappings.</summary>
    /// <param name="left">The first mapping.</param>
    /// <param name="right">The second mapping.</param>
    /// <returns>true if they differ.</returns>
    public static bool operator !=(DmaBufVmap left, DmaBufVmap right) => !left.Equals(right);

    /// <inheritdoc />
    public override string ToString() => _buffer is null ? "(no vmap)" : $"vmap of {_buffer}";

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowOutOfRange(long offset, int length, long size) =>
        throw new ArgumentOutOfRangeException(offset < 0 || offset > size ? nameof(offset) : nameof(length), $"The range {offset} + {length} is not within the {size} bytes of the vmap.");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowUnmapped()
    {
        if (_buffer!.IsReleased)
        {
            throw _buffer.ReleasedException();
        }

        throw new ObjectDisposedException(ToString(), $"This {this} is vunmapped; vmap the buffer again to use it.");
    }
}
