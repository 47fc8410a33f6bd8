// The memory behind the shipped exporters: page-aligned blocks carved out of pinned managed arrays, counted
// process-wide. A block is reachable only through references the GC tracks (its array), and every page and table
// handed out holds that reference, so the memory is never freed, nor given to another buffer, while safe code can
// still reach it: a stale page or span touches its own buffer's old memory, never someone else's. Also the published,
// immutable memory of one buffer (BufferMemory) that both shipped exporters hold and drop the same way, and the span
// over a mapping's bytes (MappedMemory) that pages and vmaps hand out.
using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;

namespace DmaBuf;

/// <summary>Counts the page memory the shipped exporters hold, process-wide, and refuses what the process cannot back.</summary>
public static class DmaBufMemory
{
    private static long s_bytesInUse;

    /// <summary>
    /// The bytes of page memory that <see cref="SystemHeapExporter"/> and <see cref="NonCoherentExporter"/> hold now,
    /// over all buffers: counted from the allocation until the buffer's release (a page or span kept past the release
    /// may keep the memory itself alive a little longer, until the GC finds it unreachable).
    /// </summary>
    public static long BytesInUse => Interlocked.Read(ref s_bytesInUse);

    /// <summary>The largest block one pinned array can back: a whole number of pages, leaving room to align the first one.</summary>
    internal static readonly long MaxBlockBytes = (Array.MaxLength - (DmaBuffer.PageSize - 1)) / DmaBuffer.PageSize * DmaBuffer.PageSize;

    /// <summary>
    /// Refuses, with <see cref="Errno.ENOMEM"/>, an allocation of <paramref name="bytes"/> that together with what the
    /// exporters already hold exceeds the memory this process may use (the machine's, or the container's or GC heap's
    /// limit): such a buffer fails cleanly instead of exhausting the machine.
    /// </summary>
    internal static void CheckBudget(long bytes, DmaBuffer buffer)
    {
        long limit = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        long inUse = BytesInUse;
        if (bytes > limit - inUse)
        {
            throw new DmaBufException(
                Errno.ENOMEM,
                $"{buffer} needs {bytes} bytes of page memory, but this process may use {limit} bytes and dma-buf exporters already hold {inUse} (ENOMEM).");
        }
    }

    /// <summary>Allocates a zeroed, page-aligned block, counted in <see cref="BytesInUse"/> until <see cref="Return"/>.</summary>
    /// <exception cref="DmaBufException"><see cref="Errno.ENOMEM"/>: too large for one block, or the allocation failed.</exception>
    internal static PageBlock Allocate(long bytes)
    {
        if (bytes > MaxBlockBytes)
        {
            throw new DmaBufException(Errno.ENOMEM, $"A block of {bytes} contiguous bytes is larger than the {MaxBlockBytes} one block of page memory can hold (ENOMEM).");
        }

        byte[] array;
        try
        {
            // Zeroed by the GC; memory fresh from the operating system is zero already and is not touched.
            array = GC.AllocateArray<byte>((int)bytes + (DmaBuffer.PageSize - 1), pinned: true);
        }
        catch (OutOfMemoryException e)
        {
            throw new DmaBufException(Errno.ENOMEM, $"Could not allocate {bytes} bytes of page memory (ENOMEM).", e);
        }

        Interlocked.Add(ref s_bytesInUse, bytes);
        return new PageBlock(array, bytes);
    }

    /// <summary>Stops counting a block the exporter no longer holds; the GC frees it once nothing reaches it.</summary>
    internal static void Return(PageBlock block) => Interlocked.Add(ref s_bytesInUse, -block.Length);
}

/// <summary>The bytes of a mapping: over its pinned array when the exporter gave one (the GC tracks the span), else over its raw address.</summary>
internal static class MappedMemory
{
    /// <summary><paramref name="length"/> bytes from <paramref name="start"/> of the mapping at <paramref name="array"/>[<paramref name="offset"/>], or at <paramref name="address"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Span<byte> Span(byte[]? array, int offset, nint address, long start, int length) =>
        array is not null
            ? MemoryMarshal.CreateSpan(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(array), (nint)(uint)offset + (nint)start), length)
            : new Span<byte>((void*)(address + (nint)start), length);
}

/// <summary>A page-aligned block of page memory: <see cref="Length"/> bytes of <see cref="Array"/> from <see cref="Offset"/>, at <see cref="Address"/>.</summary>
internal sealed unsafe class PageBlock
{
    public PageBlock(byte[] array, long length)
    {
        Array = array;
        Length = length;
        nint start = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        Offset = (int)(-start & (DmaBuffer.PageSize - 1));
        Address = start + Offset;
    }

    /// <summary>A part of <paramref name="whole"/>: <paramref name="length"/> bytes from <paramref name="start"/>, a multiple of the page size.</summary>
    public PageBlock(PageBlock whole, long start, long length)
    {
        Array = whole.Array;
        Length = length;
        Offset = whole.Offset + (int)start;
        Address = whole.Address + (nint)start;
    }

    /// <summary>The pinned array that holds the block.</summary>
    public byte[] Array { get; }

    /// <summary>The index in <see cref="Array"/> of the block's first byte.</summary>
    public int Offset { get; }

    /// <summary>The block's address, page-aligned; stable because the array is pinned.</summary>
    public nint Address { get; }

    /// <summary>The block's length in bytes.</summary>
    public long Length { get; }

    /// <summary>The bytes <paramref name="start"/> to <paramref name="start"/> + <paramref name="length"/> of the block.</summary>
    public Span<byte> Slice(long start, long length) => Array.AsSpan(Offset + (int)start, (int)length);
}

/// <summary>
/// What a shipped exporter holds for the buffer it backs now: allocated once at the first use (never for a released
/// buffer, so an exporter never allocates after its release), published whole, immutable, and dropped at the release.
/// </summary>
internal abstract class BufferMemory
{
    protected BufferMemory(DmaBuffer owner) => Owner = owner;

    /// <summary>The buffer the memory was allocated for.</summary>
    public DmaBuffer Owner { get; }

    /// <summary>The published memory if it is <paramref name="buffer"/>'s, else null.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T? Prepared<T>(ref T? published, DmaBuffer buffer)
        where T : BufferMemory
    {
        T? memory = Volatile.Read(ref published);
        return memory is not null && ReferenceEquals(memory.Owner, buffer) ? memory : null;
    }

    /// <summary>
    /// The buffer's memory, allocated by <paramref name="allocate"/> if there is none yet. Takes the buffer's gate
    /// first, as the runtime does around the exporter's attach and map, so that no attach slips in between.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The buffer has been released.</exception>
    public static T Ensure<T>(ref T? published, object exporterLock, DmaBuffer buffer, Func<DmaBuffer, T> allocate)
        where T : BufferMemory
    {
        if (Prepared(ref published, buffer) is { } existing)
        {
            return existing;
        }

        lock (buffer.Gate)
        lock (exporterLock)
        {
            if (Prepared(ref published, buffer) is { } memory)
            {
                return memory;
            }

            if (buffer.IsReleased)
            {
                throw buffer.ReleasedException();
            }

            memory = allocate(buffer);
            Volatile.Write(ref published, memory);
            return memory;
        }
    }

    /// <summary>Unpublishes the buffer's memory at its release and returns it, or null if there was none.</summary>
    public static T? Drop<T>(ref T? published, object exporterLock, DmaBuffer buffer)
        where T : BufferMemory
    {
        lock (exporterLock)
        {
            T? memory = Prepared(ref published, buffer);
            if (memory is not null)
            {
                Volatile.Write(ref published, null);
            }

            return memory;
        }
    }
}
