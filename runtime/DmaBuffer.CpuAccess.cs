// CPU access to a buffer: begin and end over a byte range or over the whole buffer (the kernel's signatures since v4.6),
// the scope that pairs them, and the range checks. A whole-buffer access is its own kind of begun access: it pairs only
// with a whole-buffer end. The exporter's begin and end callbacks run under the buffer's lock, marked as callbacks.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;

namespace DmaBuf;

public sealed partial class DmaBuffer
{
    /// <summary>A snapshot of the CPU accesses begun and not yet ended.</summary>
    public IReadOnlyList<CpuAccessRange> BegunCpuAccesses
    {
        get
        {
            lock (Gate)
            {
                return (CpuAccessRange[])_begun.Clone();
            }
        }
    }

    /// <summary>
    /// <c>dma_buf_begin_cpu_access()</c>: announces CPU access to the byte range <paramref name="start"/> ..
    /// <paramref name="start"/> + <paramref name="length"/> in <paramref name="direction"/>. The exporter makes the
    /// range available and coherent; this may fail. End it with <see cref="EndCpuAccess(long, long, DmaDataDirection)"/> with the same arguments,
    /// or use <see cref="CpuAccess(long, long, DmaDataDirection)"/>.
    /// </summary>
    /// <param name="start">The first byte.</param>
    /// <param name="length">The number of bytes; positive.</param>
    /// <param name="direction">The direction of the access.</param>
    /// <exception cref="ArgumentOutOfRangeException">The range is negative, empty, overflows or runs past the end; or the direction is not defined.</exception>
    /// <exception cref="DmaBufException">The exporter could not prepare the range (for example <see cref="Errno.ENOMEM"/>); nothing was begun.</exception>
    /// <exception cref="DmaBufUsageException">With the validator on: called while an atomic mapping is held (DMA0005).</exception>
    /// <exception cref="ObjectDisposedException">The buffer has been released.</exception>
    /// <exception cref="InvalidOperationException">Called from inside one of this buffer's exporter callbacks.</exception>
    [MightSleep]
    public void BeginCpuAccess(long start, long length, DmaDataDirection direction)
    {
        CheckRange(start, length);
        CheckDirection(direction);
        Begin(new CpuAccessRange(start, length, direction));
    }

    /// <summary>
    /// <c>dma_buf_begin_cpu_access()</c> as the kernel has it since v4.6: announces CPU access to the whole buffer in
    /// <paramref name="direction"/> (the exporter's <see cref="DmaBufExporter.BeginCpuAccess"/> is given the range 0 to
    /// <see cref="Size"/>). This is the access a <see cref="Vmap"/> is used within. End it with
    /// <see cref="EndCpuAccess(DmaDataDirection)"/> and the same direction, or use <see cref="CpuAccess(DmaDataDirection)"/>;
    /// a ranged <see cref="EndCpuAccess(long, long, DmaDataDirection)"/> does not end it, even over the whole buffer.
    /// </summary>
    /// <param name="direction">The direction of the access.</param>
    /// <exception cref="ArgumentOutOfRangeException">The direction is not defined.</exception>
    /// <exception cref="DmaBufException">The exporter could not prepare the buffer (for example <see cref="Errno.ENOMEM"/>); nothing was begun.</exception>
    /// <exception cref="DmaBufUsageException">With the validator on: called while an atomic mapping is held (DMA0005).</exception>
    /// <exception cref="ObjectDisposedException">The buffer has been released.</exception>
    /// <exception cref="InvalidOperationException">Called from inside one of this buffer's exporter callbacks.</exception>
    [MightSleep]
    public void BeginCpuAccess(DmaDataDirection direction)
    {
        CheckDirection(direction);
        Begin(CpuAccessRange.WholeBuffer(Size, direction));
    }

    /// <summary>
    /// <c>dma_buf_end_cpu_access()</c>: ends CPU access begun with <see cref="BeginCpuAccess(long, long, DmaDataDirection)"/> with the same start,
    /// length and direction. The exporter flushes what the CPU wrote. Mapping a page of the range afterwards is undefined.
    /// </summary>
    /// <param name="start">The first byte, as begun.</param>
    /// <param name="length">The number of bytes, as begun.</param>
    /// <param name="direction">The direction, as begun.</param>
    /// <exception cref="ArgumentOutOfRangeException">The range or the direction is invalid.</exception>
    /// <exception cref="DmaBufUsageException">With the validator on: no access with this range and direction is begun (DMA0002), or an atomic mapping is held (DMA0005).</exception>
    /// <exception cref="ObjectDisposedException">The buffer has been released.</exception>
    /// <exception cref="InvalidOperationException">Called from inside one of this buffer's exporter callbacks.</exception>
    [MightSleep]
    public void EndCpuAccess(long start, long length, DmaDataDirection direction)
    {
        CheckRange(start, length);
        CheckDirection(direction);
        End(new CpuAccessRange(start, length, direction), $"EndCpuAccess({start}, {length}, {direction})");
    }

    /// <summary>
    /// <c>dma_buf_end_cpu_access()</c> as the kernel has it since v4.6: ends the whole-buffer CPU access begun with
    /// <see cref="BeginCpuAccess(DmaDataDirection)"/> in the same direction (the exporter's
    /// <see cref="DmaBufExporter.EndCpuAccess"/> is given the range 0 to <see cref="Size"/>). It does not end a ranged
    /// access, even one over the whole buffer. Accessing a vmap's bytes afterwards is undefined.
    /// </summary>
    /// <param name="direction">The direction, as begun.</param>
    /// <exception cref="ArgumentOutOfRangeException">The direction is not defined.</exception>
    /// <exception cref="DmaBufUsageException">With the validator on: no whole-buffer access in this direction is begun (DMA0002), or an atomic mapping is held (DMA0005).</exception>
    /// <exception cref="ObjectDisposedException">The buffer has been released.</exception>
    /// <exception cref="InvalidOperationException">Called from inside one of this buffer's exporter callbacks.</exception>
    [MightSleep]
    public void EndCpuAccess(DmaDataDirection direction)
    {
        CheckDirection(direction);
        End(CpuAccessRange.WholeBuffer(Size, direction), $"EndCpuAccess({direction})");
    }

    /// <summary>
    /// Begins CPU access to the whole buffer as <see cref="BeginCpuAccess(DmaDataDirection)"/> does and returns a scope whose
    /// <see cref="CpuAccessScope.Dispose"/> ends it with <see cref="EndCpuAccess(DmaDataDirection)"/>:
    /// <c>using (buf.CpuAccess(DmaDataDirection.FromDevice)) { ... }</c>.
    /// </summary>
    /// <param name="direction">The direction of the access.</param>
    /// <returns>The scope that ends the access.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The direction is not defined.</exception>
    /// <exception cref="DmaBufException">The exporter could not prepare the buffer.</exception>
    /// <exception cref="ObjectDisposedException">The buffer has been released.</exception>
    [MightSleep]
    [LeavesCpuAccessOpen]
    public CpuAccessScope CpuAccess(DmaDataDirection direction)
    {
        BeginCpuAccess(direction);
        return new CpuAccessScope(this, CpuAccessRange.WholeBuffer(Size, direction));
    }

    private void Begin(CpuAccessRange range)
    {
        CheckMightSleep(nameof(BeginCpuAccess));
        lock (Gate)
        {
            ThrowIfReleased();
            CheckNotInCallbackLocked(nameof(BeginCpuAccess));
            using (new CallbackScope(this))
            {
                _exporter.BeginCpuAccess(this, range.Start, range.Length, range.Direction);
            }

            CpuAccessRange[] begun = _begun;
            var grown = new CpuAccessRange[begun.Length + 1];
            begun.CopyTo(grown, 0);
            grown[begun.Length] = range;
            Volatile.Write(ref _begun, grown);
        }
    }

    private void End(CpuAccessRange range, string call)
    {
        CheckMightSleep(nameof(EndCpuAccess));
        lock (Gate)
        {
            ThrowIfReleased();
            CheckNotInCallbackLocked(nameof(EndCpuAccess));
            CpuAccessRange[] current = _begun;
            int index = Array.IndexOf(current, range);
            if (index < 0 && DmaBufValidation.s_enabled)
            {
                string begun = current.Length == 0 ? "no CPU access is begun" : "begun: " + string.Join("; ", current);
                throw new DmaBufUsageException("DMA0002", $"{call} on {this} matches no begun CPU access ({begun}).");
            }

            using (new CallbackScope(this))
            {
                _exporter.EndCpuAccess(this, range.Start, range.Length, range.Direction);
            }

            if (index >= 0)
            {
                var shrunk = new CpuAccessRange[current.Length - 1];
                Array.Copy(current, 0, shrunk, 0, index);
                Array.Copy(current, index + 1, shrunk, index, current.Length - index - 1);
                Volatile.Write(ref _begun, shrunk);
            }
        }
    }

    /// <summary>
    /// Begins CPU access as <see cref="BeginCpuAccess(long, long, DmaDataDirection)"/> does and returns a scope whose <see cref="CpuAccessScope.Dispose"/>
    /// ends it with the same arguments: <c>using (buf.CpuAccess(0, len, DmaDataDirection.FromDevice)) { ... }</c>.
    /// </summary>
    /// <param name="start">The first byte.</param>
    /// <param name="length">The number of bytes; positive.</param>
    /// <param name="direction">The direction of the access.</param>
    /// <returns>The scope that ends the access.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The range or the direction is invalid.</exception>
    /// <exception cref="DmaBufException">The exporter could not prepare the range.</exception>
    /// <exception cref="ObjectDisposedException">The buffer has been released.</exception>
    [MightSleep]
    [LeavesCpuAccessOpen]
    public CpuAccessScope CpuAccess(long start, long length, DmaDataDirection direction)
    {
        BeginCpuAccess(start, length, direction);
        return new CpuAccessScope(this, new CpuAccessRange(start, length, direction));
    }

    private void CheckRange(long start, long length)
    {
        if (start < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(start), start, "The start of a CPU access must not be negative.");
        }

        if (length <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, "The length of a CPU access must be positive.");
        }

        if (length > Size || start > Size - length)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, $"Bytes {start}..{(Int128)start + length - 1} run past the end of {this} ({Size} bytes).");
        }
    }

    private static void CheckDirection(DmaDataDirection direction)
    {
        if ((uint)direction > (uint)DmaDataDirection.None)
        {
            throw new ArgumentOutOfRangeException(nameof(direction), direction, "Not a defined DmaDataDirection.");
        }
    }
}

/// <summary>
/// A begun CPU access: the start, length and direction given to <see cref="DmaBuffer.BeginCpuAccess(long, long, DmaDataDirection)"/>,
/// or, with <see cref="IsWholeBuffer"/>, the whole buffer begun by <see cref="DmaBuffer.BeginCpuAccess(DmaDataDirection)"/>.
/// </summary>
/// <param name="Start">The first byte.</param>
/// <param name="Length">The number of bytes.</param>
/// <param name="Direction">The direction.</param>
public readonly record struct CpuAccessRange(long Start, long Length, DmaDataDirection Direction)
{
    /// <summary>
    /// Whether this is a whole-buffer access (<see cref="DmaBuffer.BeginCpuAccess(DmaDataDirection)"/>), which only a whole-buffer
    /// <see cref="DmaBuffer.EndCpuAccess(DmaDataDirection)"/> ends; a ranged access over the whole buffer is not one.
    /// </summary>
    public bool IsWholeBuffer { get; init; }

    /// <summary>The whole-buffer access to a buffer of <paramref name="size"/> bytes in <paramref name="direction"/>.</summary>
    /// <param name="size">The buffer's size.</param>
    /// <param name="direction">The direction.</param>
    /// <returns>The access.</returns>
    public static CpuAccessRange WholeBuffer(long size, DmaDataDirection direction) => new(0, size, direction) { IsWholeBuffer = true };

    /// <summary>The first page of the range's page span: <c>Start / PageSize</c>.</summary>
    public long FirstPage => Start / DmaBuffer.PageSize;

    /// <summary>The last page of the range's page span: <c>(Start + Length - 1) / PageSize</c>; partial pages count as inside.</summary>
    public long LastPage => (Start + Length - 1) / DmaBuffer.PageSize;

    /// <summary>
    /// The range as the analyzers' messages write it: <c>bytes 0..8191, FromDevice, pages 0..1</c> (first..last byte
    /// and page, both included; one page is written <c>pages 3</c>), after <c>the whole buffer: </c> for a whole-buffer access.
    /// </summary>
    /// <returns>The range, the direction and the page span.</returns>
    public override string ToString() =>
        (IsWholeBuffer ? "the whole buffer: " : string.Empty) +
        $"bytes {Start}..{Start + Length - 1}, {Direction}, pages {(FirstPage == LastPage ? FirstPage.ToString(CultureInfo.InvariantCulture) : FormattableString.Invariant($"{FirstPage}..{LastPage}"))}";
}
