using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;

namespace DmaBuf;

/// <summary>
/// A shared DMA buffer: the kernel's <c>struct dma_buf</c>. An exporter creates it with <see cref="Export"/>;
/// importers share it through descriptors (<see cref="Fd"/>, <see cref="Get"/>), attach devices and map
/// attachments for DMA, and reach it from the CPU with begin/end CPU access and page-wise kmap.
/// </summary>
/// <remarks>
/// Every method may be called from any thread. Every method that may block carries <see cref="MightSleepAttribute"/>;
/// <see cref="KmapAtomic"/>, <see cref="KunmapAtomic"/> and <see cref="Kunmap"/> do not block.
/// After the last <see cref="Put"/>, every method throws <see cref="ObjectDisposedException"/>.
/// </remarks>
public sealed class DmaBuffer
{
    /// <summary>The size of one page in bytes (the kernel's <c>PAGE_SIZE</c>).</summary>
    public const int PageSize = 4096;

    private static long s_nextId;
    private static long s_liveBuffers;

    internal readonly object Gate = new();
    private readonly DmaBufExporter _exporter;
    private readonly List<DmaBufAttachment> _attachments = new();
    private readonly Dictionary<long, MappingRecord> _trackedMappings = new();

    // Copy-on-write under Gate, so that the validator's kmap check reads it without a lock.
    private CpuAccessRange[] _begun = Array.Empty<CpuAccessRange>();
    private int _refCount = 1;
    private int _mappedTables;
    private long _mappedPages;
    private volatile bool _released;

    private DmaBuffer(DmaBufExporter exporter, long size, int flags)
    {
        _exporter = exporter;
        Size = size;
        PageCount = (size + PageSize - 1) / PageSize;
        Flags = flags;
        Id = Interlocked.Increment(ref s_nextId);
    }

    /// <summary>The buffer's size in bytes (<c>dmabuf-&gt;size</c>).</summary>
    public long Size { get; }

    /// <summary>The number of pages, <see cref="Size"/> rounded up to whole pages; valid page numbers are 0 to <c>PageCount - 1</c>.</summary>
    public long PageCount { get; }

    /// <summary>The file flags given to <see cref="Export"/>.</summary>
    public int Flags { get; }

    /// <summary>A process-unique number that names the buffer in messages.</summary>
    public long Id { get; }

    /// <summary>The exporter that backs the buffer (<c>dmabuf-&gt;ops</c> and <c>dmabuf-&gt;priv</c>).</summary>
    public DmaBufExporter Exporter => _exporter;

    /// <summary>The number of references (the file's reference count); 0 once released.</summary>
    public int ReferenceCount
    {
        get
        {
            lock (Gate)
            {
                return _refCount;
            }
        }
    }

    /// <summary>Whether the last reference has been put and the exporter's release has run.</summary>
    public bool IsReleased => _released;

    /// <summary>A snapshot of the current attachments, in attach order (<c>dmabuf-&gt;attachments</c>).</summary>
    public IReadOnlyList<DmaBufAttachment> Attachments
    {
        get
        {
            lock (Gate)
            {
                return _attachments.ToArray();
            }
        }
    }

    /// <summary>The number of scatter-gather tables mapped now, over all attachments.</summary>
    public int MappedTableCount
    {
        get
        {
            lock (Gate)
            {
                return _mappedTables;
            }
        }
    }

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

    /// <summary>The number of pages mapped now with <see cref="Kmap"/> or <see cref="KmapAtomic"/> and not yet unmapped.</summary>
    public long MappedPageCount => Interlocked.Read(ref _mappedPages);

    /// <summary>
    /// The number of buffers in this process that were exported and not yet released. A buffer that is never put
    /// stays counted here: this is how a leak shows (there is no finalizer that hides it).
    /// </summary>
    public static long LiveBufferCount => Interlocked.Read(ref s_liveBuffers);

    /// <summary>
    /// <c>dma_buf_export()</c>: creates a buffer backed by <paramref name="exporter"/>, holding one reference
    /// that the caller owns and drops with <see cref="Put"/>.
    /// </summary>
    /// <param name="exporter">The exporter's operations; it backs this buffer alone until its release.</param>
    /// <param name="size">The size in bytes.</param>
    /// <param name="flags">File flags for the buffer (for example <c>O_RDWR</c>).</param>
    /// <returns>The new buffer.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="exporter"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is not positive or too large to address by page.</exception>
    /// <exception cref="ArgumentException">The exporter already backs a buffer that has not been released.</exception>
    [MightSleep]
    public static DmaBuffer Export(DmaBufExporter exporter, long size, int flags = 0)
    {
        if (exporter is null)
        {
            throw new ArgumentNullException(nameof(exporter));
        }

        if (size <= 0 || size > long.MaxValue - PageSize)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "The size of a dma-buf must be positive.");
        }

        CheckMightSleep(nameof(Export));
        var buffer = new DmaBuffer(exporter, size, flags);
        if (!exporter.TryBind(buffer))
        {
            throw new ArgumentException($"The exporter already backs {exporter.Buffer}; an exporter instance backs one buffer until its release.", nameof(exporter));
        }

        Interlocked.Increment(ref s_liveBuffers);
        return buffer;
    }

    /// <summary>
    /// <c>dma_buf_fd()</c>: installs a descriptor for the buffer in the process-wide descriptor table.
    /// The descriptor holds its own reference until <see cref="CloseFd"/> closes it.
    /// </summary>
    /// <param name="flags">Descriptor flags (for example <c>O_CLOEXEC</c>), kept with the descriptor.</param>
    /// <returns>The new descriptor, a positive number.</returns>
    /// <exception cref="ObjectDisposedException">The buffer has been released.</exception>
    [MightSleep]
    public int Fd(int flags = 0)
    {
        CheckMightSleep(nameof(Fd));
        lock (Gate)
        {
            AddReferenceLocked();
        }

        try
        {
            return DescriptorTable.Install(this, flags);
        }
        catch
        {
            // No descriptor, no reference: a failed call changes nothing.
            lock (Gate)
            {
                _refCount--;
            }

            throw;
        }
    }

    /// <summary><c>dma_buf_get()</c>: takes a new reference to the buffer behind a descriptor; drop it with <see cref="Put"/>.</summary>
    /// <param name="fd">A descriptor from <see cref="Fd"/> that is still open.</param>
    /// <returns>The buffer.</returns>
    /// <exception cref="ArgumentException"><paramref name="fd"/> is not an open dma-buf descriptor (the kernel's <c>EBADF</c>).</exception>
    [MightSleep]
    public static DmaBuffer Get(int fd)
    {
        CheckMightSleep(nameof(Get));
        return DescriptorTable.GetReference(fd);
    }

    /// <summary>Closes a descriptor made by <see cref="Fd"/> (<c>close(2)</c>), dropping the reference it held.</summary>
    /// <param name="fd">An open dma-buf descriptor.</param>
    /// <exception cref="ArgumentException"><paramref name="fd"/> is not an open dma-buf descriptor.</exception>
    /// <exception cref="DmaBufUsageException">With the validator on: the descriptor held the last reference and CPU access, a mapped page or a mapped attachment is still outstanding.</exception>
    [MightSleep]
    public static void CloseFd(int fd)
    {
        CheckMightSleep(nameof(CloseFd));
        DescriptorTable.Close(fd);
    }

    /// <summary>
    /// <c>dma_buf_put()</c>: drops a reference. The last one calls the exporter's <see cref="DmaBufExporter.Release"/>,
    /// exactly once, and the buffer can no longer be used.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The buffer has already been released (a put too many).</exception>
    /// <exception cref="DmaBufUsageException">With the validator on: this is the last reference and CPU access is still begun (DMA0001),
    /// a page is still mapped (DMA0003) or an attachment is still mapped (DMA0009). Nothing changes.</exception>
    [MightSleep]
    public void Put()
    {
        CheckMightSleep(nameof(Put));
        bool last;
        lock (Gate)
        {
            last = DropReferenceLocked();
        }

        if (last)
        {
            FinishRelease();
        }
    }

    /// <summary>Drops one reference under <see cref="Gate"/>; true when it was the last one and the caller must call <see cref="FinishRelease"/>.</summary>
    internal bool DropReferenceLocked()
    {
        ThrowIfReleased();
        if (_refCount == 1 && DmaBufValidation.s_enabled)
        {
            CheckNothingOutstandingLocked();
        }

        _refCount--;
        if (_refCount > 0)
        {
            return false;
        }

        _released = true;
        return true;
    }

    internal void FinishRelease()
    {
        Interlocked.Decrement(ref s_liveBuffers);
        try
        {
            _exporter.Release(this);
        }
        finally
        {
            _exporter.Unbind();
        }
    }

    internal void AddReferenceLocked()
    {
        ThrowIfReleased();
        _refCount++;
    }

    /// <summary><c>dma_buf_attach()</c>: attaches a device; the exporter may refuse it.</summary>
    /// <param name="device">The device.</param>
    /// <returns>The new attachment.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="device"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The buffer has been released.</exception>
    /// <exception cref="DmaBufException">The exporter refused: <see cref="Errno.EINVAL"/> when the device's constraints cannot be met,
    /// <see cref="Errno.EBUSY"/> when the buffer is already mapped and cannot be migrated for the device.</exception>
    [MightSleep]
    public DmaBufAttachment Attach(Device device)
    {
        if (device is null)
        {
            throw new ArgumentNullException(nameof(device));
        }

        CheckMightSleep(nameof(Attach));
        lock (Gate)
        {
            ThrowIfReleased();
            var attachment = new DmaBufAttachment(this, device);
            _exporter.Attach(attachment);
            attachment.IsAttached = true;
            _attachments.Add(attachment);
            return attachment;
        }
    }

    /// <summary><c>dma_buf_detach()</c>: detaches a device attached with <see cref="Attach"/>.</summary>
    /// <param name="attachment">The attachment.</param>
    /// <exception cref="ArgumentNullException"><paramref name="attachment"/> is null.</exception>
    /// <exception cref="ArgumentException">The attachment belongs to another buffer or is already detached (with the validator on, a <see cref="DmaBufUsageException"/> DMA0011 for another buffer's attachment).</exception>
    /// <exception cref="DmaBufUsageException">With the validator on: the attachment still has a mapped table (DMA0009).</exception>
    /// <exception cref="ObjectDisposedException">The buffer has been released.</exception>
    [MightSleep]
    public void Detach(DmaBufAttachment attachment)
    {
        CheckAttachmentArgument(attachment, "DMA0011");
        CheckMightSleep(nameof(Detach));
        lock (Gate)
        {
            ThrowIfReleased();
            CheckAttachedLocked(attachment);
            if (attachment.MappedTables.Count > 0 && DmaBufValidation.s_enabled)
            {
                throw new DmaBufUsageException("DMA0009", $"{attachment} is detached while {attachment.MappedTables.Count} scatter-gather table(s) are still mapped; call UnmapAttachment first.");
            }

            // With the validator off a mapped attachment may be detached, as in the kernel; unmap its tables
            // through the exporter first so that the exporter's own state stays consistent.
            foreach (ScatterGatherTable table in attachment.MappedTables.ToArray())
            {
                _exporter.UnmapDmaBuf(attachment, table);
                attachment.MappedTables.Remove(table);
                table.MarkUnmapped();
                _mappedTables--;
            }

            _exporter.Detach(attachment);
            attachment.IsAttached = false;
            _attachments.Remove(attachment);
        }
    }

    /// <summary>
    /// <c>dma_buf_map_attachment()</c>: makes the buffer available to the attached device and returns the
    /// scatter-gather table through which it reaches it. The exporter may allocate the backing storage here.
    /// </summary>
    /// <param name="attachment">An attachment of this buffer.</param>
    /// <param name="direction">The direction of the DMA.</param>
    /// <returns>The mapped table; give it back to <see cref="UnmapAttachment"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="attachment"/> is null.</exception>
    /// <exception cref="ArgumentException">The attachment belongs to another buffer or is detached.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="direction"/> is not a defined direction.</exception>
    /// <exception cref="DmaBufException">The exporter failed (for example <see cref="Errno.ENOMEM"/>).</exception>
    /// <exception cref="ObjectDisposedException">The buffer has been released.</exception>
    [MightSleep]
    public ScatterGatherTable MapAttachment(DmaBufAttachment attachment, DmaDataDirection direction)
    {
        CheckAttachmentArgument(attachment, ruleId: null);
        CheckDirection(direction);
        CheckMightSleep(nameof(MapAttachment));
        lock (Gate)
        {
            ThrowIfReleased();
            CheckAttachedLocked(attachment);
            ScatterGatherTable table = _exporter.MapDmaBuf(attachment, direction)
                ?? throw new DmaBufException(Errno.EINVAL, "The exporter's map_dma_buf returned no table.");
            table.Bind(attachment, direction);
            attachment.MappedTables.Add(table);
            _mappedTables++;
            return table;
        }
    }

    /// <summary><c>dma_buf_unmap_attachment()</c>: the device is done with a table that <see cref="MapAttachment"/> returned.</summary>
    /// <param name="attachment">The attachment the table was mapped for.</param>
    /// <param name="table">The table.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The table is not mapped for this attachment (with the validator on, a <see cref="DmaBufUsageException"/> DMA0009).</exception>
    /// <exception cref="ObjectDisposedException">The buffer has been released.</exception>
    [MightSleep]
    public void UnmapAttachment(DmaBufAttachment attachment, ScatterGatherTable table)
    {
        CheckAttachmentArgument(attachment, "DMA0009");
        if (table is null)
        {
            throw new ArgumentNullException(nameof(table));
        }

        CheckMightSleep(nameof(UnmapAttachment));
        lock (Gate)
        {
            ThrowIfReleased();
            if (!attachment.MappedTables.Contains(table))
            {
                string why = table.Attachment is null
                    ? "was never returned by MapAttachment"
                    : !ReferenceEquals(table.Attachment, attachment)
                        ? $"was mapped for another attachment ({table.Attachment})"
                        : "is already unmapped";
                Refuse("DMA0009", $"The scatter-gather table given to UnmapAttachment for {attachment} {why}.", nameof(table));
            }

            _exporter.UnmapDmaBuf(attachment, table);
            attachment.MappedTables.Remove(table);
            table.MarkUnmapped();
            _mappedTables--;
        }
    }

    /// <summary>
    /// <c>dma_buf_begin_cpu_access()</c>: announces CPU access to the byte range <paramref name="start"/> ..
    /// <paramref name="start"/> + <paramref name="length"/> in <paramref name="direction"/>. The exporter makes the
    /// range available and coherent; this may fail. End it with <see cref="EndCpuAccess"/> with the same arguments,
    /// or use <see cref="CpuAccess"/>.
    /// </summary>
    /// <param name="start">The first byte.</param>
    /// <param name="length">The number of bytes; positive.</param>
    /// <param name="direction">The direction of the access.</param>
    /// <exception cref="ArgumentOutOfRangeException">The range is negative, empty, overflows or runs past the end; or the direction is not defined.</exception>
    /// <exception cref="DmaBufException">The exporter could not prepare the range (for example <see cref="Errno.ENOMEM"/>); nothing was begun.</exception>
    /// <exception cref="DmaBufUsageException">With the validator on: called while an atomic mapping is held (DMA0005).</exception>
    /// <exception cref="ObjectDisposedException">The buffer has been released.</exception>
    [MightSleep]
    public void BeginCpuAccess(long start, long length, DmaDataDirection direction)
    {
        CheckRange(start, length);
        CheckDirection(direction);
        CheckMightSleep(nameof(BeginCpuAccess));
        lock (Gate)
        {
            ThrowIfReleased();
            _exporter.BeginCpuAccess(this, start, length, direction);
            CpuAccessRange[] begun = _begun;
            var grown = new CpuAccessRange[begun.Length + 1];
            begun.CopyTo(grown, 0);
            grown[begun.Length] = new CpuAccessRange(start, length, direction);
            Volatile.Write(ref _begun, grown);
        }
    }

    /// <summary>
    /// <c>dma_buf_end_cpu_access()</c>: ends CPU access begun with <see cref="BeginCpuAccess"/> with the same start,
    /// length and direction. The exporter flushes what the CPU wrote. Mapping a page of the range afterwards is undefined.
    /// </summary>
    /// <param name="start">The first byte, as begun.</param>
    /// <param name="length">The number of bytes, as begun.</param>
    /// <param name="direction">The direction, as begun.</param>
    /// <exception cref="ArgumentOutOfRangeException">The range or the direction is invalid.</exception>
    /// <exception cref="DmaBufUsageException">With the validator on: no access with this range and direction is begun (DMA0002), or an atomic mapping is held (DMA0005).</exception>
    /// <exception cref="ObjectDisposedException">The buffer has been released.</exception>
    [MightSleep]
    public void EndCpuAccess(long start, long length, DmaDataDirection direction)
    {
        CheckRange(start, length);
        CheckDirection(direction);
        CheckMightSleep(nameof(EndCpuAccess));
        lock (Gate)
        {
            ThrowIfReleased();
            CpuAccessRange[] current = _begun;
            int index = Array.IndexOf(current, new CpuAccessRange(start, length, direction));
            if (index < 0 && DmaBufValidation.s_enabled)
            {
                string begun = current.Length == 0 ? "no CPU access is begun" : "begun: " + string.Join(", ", current);
                throw new DmaBufUsageException("DMA0002", $"EndCpuAccess({start}, {length}, {direction}) on {this} matches no begun CPU access ({begun}).");
            }

            _exporter.EndCpuAccess(this, start, length, direction);
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
    /// Begins CPU access as <see cref="BeginCpuAccess"/> does and returns a scope whose <see cref="CpuAccessScope.Dispose"/>
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
        return new CpuAccessScope(this, start, length, direction);
    }

    /// <summary>
    /// <c>dma_buf_kmap()</c>: maps one page into the CPU's address space; may block. Unmap it with <see cref="Kunmap"/>
    /// (or dispose the page). The page should lie within a begun CPU access.
    /// </summary>
    /// <param name="pageNumber">The page, 0 to <see cref="PageCount"/> - 1.</param>
    /// <returns>The mapped page.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The page is negative or past the end.</exception>
    /// <exception cref="DmaBufUsageException">With the validator on: an atomic mapping is held (DMA0005), the page is outside every begun access (DMA0006) or no access is begun (DMA0007).</exception>
    /// <exception cref="ObjectDisposedException">The buffer has been released.</exception>
    [MightSleep]
    public DmaBufPage Kmap(long pageNumber)
    {
        ThrowIfReleased();
        CheckPage(pageNumber);
        if (DmaBufValidation.s_enabled)
        {
            return MapValidated(pageNumber, atomic: false);
        }

        nint address = _exporter.Kmap(this, pageNumber);
        Interlocked.Increment(ref _mappedPages);
        return new DmaBufPage(this, pageNumber, address, isAtomic: false, token: 0);
    }

    /// <summary><c>dma_buf_kunmap()</c>: unmaps a page mapped with <see cref="Kmap"/>. Does not block.</summary>
    /// <param name="pageNumber">The page number given to <see cref="Kmap"/>.</param>
    /// <param name="page">The mapping <see cref="Kmap"/> returned.</param>
    /// <exception cref="ArgumentException"><paramref name="page"/> is not a mapping of this buffer.</exception>
    /// <exception cref="DmaBufUsageException">With the validator on: the mapping is atomic, of another page, or already unmapped (DMA0003).</exception>
    /// <exception cref="ObjectDisposedException">The buffer has been released.</exception>
    public void Kunmap(long pageNumber, DmaBufPage page)
    {
        ThrowIfReleased();
        CheckOwnPage(page);
        if (page.Token != 0)
        {
            UnmapValidated(pageNumber, page, atomic: false);
            return;
        }

        _exporter.Kunmap(this, pageNumber, page.Address);
        Interlocked.Decrement(ref _mappedPages);
    }

    /// <summary>
    /// <c>dma_buf_kmap_atomic()</c>: maps one page without blocking. Hold at most two atomic mappings at a time
    /// per thread, and do nothing that may block until they are unmapped with <see cref="KunmapAtomic"/>.
    /// </summary>
    /// <param name="pageNumber">The page, 0 to <see cref="PageCount"/> - 1.</param>
    /// <returns>The mapped page.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The page is negative or past the end.</exception>
    /// <exception cref="DmaBufUsageException">With the validator on: the thread already holds two atomic mappings (DMA0004), the page is outside every begun access (DMA0006) or no access is begun (DMA0007).</exception>
    /// <exception cref="ObjectDisposedException">The buffer has been released.</exception>
    public DmaBufPage KmapAtomic(long pageNumber)
    {
        ThrowIfReleased();
        CheckPage(pageNumber);
        if (DmaBufValidation.s_enabled)
        {
            return MapValidated(pageNumber, atomic: true);
        }

        nint address = _exporter.KmapAtomic(this, pageNumber);
        Interlocked.Increment(ref _mappedPages);
        return new DmaBufPage(this, pageNumber, address, isAtomic: true, token: 0);
    }

    /// <summary><c>dma_buf_kunmap_atomic()</c>: unmaps a page mapped with <see cref="KmapAtomic"/>. Does not block.</summary>
    /// <param name="pageNumber">The page number given to <see cref="KmapAtomic"/>.</param>
    /// <param name="page">The mapping <see cref="KmapAtomic"/> returned.</param>
    /// <exception cref="ArgumentException"><paramref name="page"/> is not a mapping of this buffer.</exception>
    /// <exception cref="DmaBufUsageException">With the validator on: the mapping is not atomic, of another page, or already unmapped (DMA0003).</exception>
    /// <exception cref="ObjectDisposedException">The buffer has been released.</exception>
    public void KunmapAtomic(long pageNumber, DmaBufPage page)
    {
        ThrowIfReleased();
        CheckOwnPage(page);
        if (page.Token != 0)
        {
            UnmapValidated(pageNumber, page, atomic: true);
            return;
        }

        _exporter.KunmapAtomic(this, pageNumber, page.Address);
        Interlocked.Decrement(ref _mappedPages);
    }

    /// <inheritdoc />
    public override string ToString() => $"dma-buf #{Id}";

    private DmaBufPage MapValidated(long pageNumber, bool atomic)
    {
        if (atomic)
        {
            return MapAtomicValidated(pageNumber);
        }

        DmaBufValidation.CheckMightSleep($"Kmap({pageNumber}) on {this}");
        CheckPageBegun(pageNumber, nameof(Kmap));
        var record = new MappingRecord(this, pageNumber, isAtomic: false, DmaBufValidation.Context.NextToken());
        nint address = _exporter.Kmap(this, pageNumber);
        lock (Gate)
        {
            _trackedMappings.Add(record.Token, record);
        }

        Interlocked.Increment(ref _mappedPages);
        return new DmaBufPage(this, pageNumber, address, isAtomic: false, record.Token);
    }

    // The validated KmapAtomic: DMA0004, then DMA0007/DMA0006, then the exporter's callback with blocking forbidden
    // (DMA0008); the mapping is recorded in this thread's context only once the exporter has mapped it.
    private DmaBufPage MapAtomicValidated(long pageNumber)
    {
        DmaBufValidation.ThreadContext context = DmaBufValidation.Context;
        if (context.AtomicHeldCount >= DmaBufValidation.ThreadContext.MaxAtomicHeld)
        {
            ThrowThirdAtomic(pageNumber, context);
        }

        CheckPageBegun(pageNumber, nameof(KmapAtomic));
        long token = context.NextToken();
        nint address;
        context.AtomicCallbackDepth++;
        try
        {
            address = _exporter.KmapAtomic(this, pageNumber);
        }
        finally
        {
            context.AtomicCallbackDepth--;
        }

        context.AddAtomicHeld(new MappingRecord(this, pageNumber, isAtomic: true, token));
        Interlocked.Increment(ref _mappedPages);
        return new DmaBufPage(this, pageNumber, address, isAtomic: true, token);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowThirdAtomic(long pageNumber, DmaBufValidation.ThreadContext context) =>
        throw new DmaBufUsageException(
            "DMA0004",
            $"KmapAtomic({pageNumber}) on {this} would hold a third atomic mapping in this thread (held: {context.DescribeAtomicHeld()}); at most 2 are allowed.");

    private void UnmapValidated(long pageNumber, DmaBufPage page, bool atomic)
    {
        if (page.IsAtomic != atomic || pageNumber != page.PageNumber)
        {
            ThrowWrongUnmap(pageNumber, page, atomic);
        }

        if (atomic)
        {
            UnmapAtomicValidated(pageNumber, page);
            return;
        }

        lock (Gate)
        {
            if (!_trackedMappings.ContainsKey(page.Token))
            {
                throw new DmaBufUsageException("DMA0003", $"{nameof(Kunmap)}({pageNumber}) on {this}: the mapping of page {page.PageNumber} is already unmapped.");
            }
        }

        _exporter.Kunmap(this, pageNumber, page.Address);
        lock (Gate)
        {
            if (!_trackedMappings.Remove(page.Token))
            {
                throw new DmaBufUsageException("DMA0003", $"{nameof(Kunmap)}({pageNumber}) on {this}: the mapping of page {page.PageNumber} was unmapped by another thread at the same time.");
            }
        }

        Interlocked.Decrement(ref _mappedPages);
    }

    // The validated KunmapAtomic, once the call and page number are known to match: the mapping must be held by this
    // thread; it is forgotten only once the exporter has unmapped it, so a failed call changes nothing.
    private void UnmapAtomicValidated(long pageNumber, DmaBufPage page)
    {
        DmaBufValidation.ThreadContext context = DmaBufValidation.Context;
        if (context.IndexOfAtomicHeld(page.Token) < 0)
        {
            ThrowNotHeldAtomic(pageNumber);
        }

        context.AtomicCallbackDepth++;
        try
        {
            _exporter.KunmapAtomic(this, pageNumber, page.Address);
        }
        finally
        {
            context.AtomicCallbackDepth--;
        }

        // Looked up again: the exporter's callback ran on this thread in between.
        int index = context.IndexOfAtomicHeld(page.Token);
        if (index >= 0)
        {
            context.RemoveAtomicHeldAt(index);
        }

        Interlocked.Decrement(ref _mappedPages);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowWrongUnmap(long pageNumber, DmaBufPage page, bool atomic)
    {
        string call = atomic ? nameof(KunmapAtomic) : nameof(Kunmap);
        if (page.IsAtomic != atomic)
        {
            string right = page.IsAtomic ? nameof(KunmapAtomic) : nameof(Kunmap);
            throw new DmaBufUsageException("DMA0003", $"{call}({pageNumber}) on {this} unmaps a mapping made by {(page.IsAtomic ? nameof(KmapAtomic) : nameof(Kmap))}({page.PageNumber}); use {right}.");
        }

        throw new DmaBufUsageException("DMA0003", $"{call}({pageNumber}) on {this} is given the mapping of page {page.PageNumber}; unmap it with page number {page.PageNumber}.");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowNotHeldAtomic(long pageNumber) =>
        throw new DmaBufUsageException("DMA0003", $"{nameof(KunmapAtomic)}({pageNumber}) on {this}: this thread holds no such atomic mapping; it is already unmapped, or was mapped in another thread (an atomic mapping is unmapped in the context that mapped it).");

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CheckPageBegun(long pageNumber, string call)
    {
        CpuAccessRange[] begun = Volatile.Read(ref _begun);
        foreach (CpuAccessRange range in begun)
        {
            if (pageNumber >= range.FirstPage && pageNumber <= range.LastPage)
            {
                return;
            }
        }

        ThrowPageNotBegun(pageNumber, call, begun);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowPageNotBegun(long pageNumber, string call, CpuAccessRange[] begun)
    {
        if (begun.Length == 0)
        {
            throw new DmaBufUsageException("DMA0007", $"{call}({pageNumber}) on {this} with no CPU access begun; call BeginCpuAccess (or CpuAccess) for a range that covers page {pageNumber} first.");
        }

        throw new DmaBufUsageException("DMA0006", $"{call}({pageNumber}) on {this} is outside the begun CPU access ({string.Join(", ", begun)}).");
    }

    private void CheckNothingOutstandingLocked()
    {
        if (_begun.Length > 0)
        {
            throw new DmaBufUsageException("DMA0001", $"The last reference to {this} is put while CPU access is still begun ({string.Join(", ", _begun)}); call EndCpuAccess first.");
        }

        foreach (MappingRecord record in _trackedMappings.Values)
        {
            throw new DmaBufUsageException("DMA0003", $"The last reference to {this} is put while page {record.PageNumber} is still mapped by {nameof(Kmap)}.");
        }

        long mapped = Interlocked.Read(ref _mappedPages);
        if (mapped > 0)
        {
            throw new DmaBufUsageException("DMA0003", $"The last reference to {this} is put while {mapped} page(s) are still mapped by {nameof(KmapAtomic)}.");
        }

        if (_mappedTables > 0)
        {
            throw new DmaBufUsageException("DMA0009", $"The last reference to {this} is put while {_mappedTables} attachment table(s) are still mapped; call UnmapAttachment first.");
        }
    }

    // ruleId: the rule a foreign attachment breaks, or null when it is a plain bad argument with the validator on too.
    private void CheckAttachmentArgument(DmaBufAttachment attachment, string? ruleId)
    {
        if (attachment is null)
        {
            throw new ArgumentNullException(nameof(attachment));
        }

        if (!ReferenceEquals(attachment.Buffer, this))
        {
            Refuse(ruleId, $"{attachment} belongs to {attachment.Buffer}, not to {this}.", nameof(attachment));
        }
    }

    private static void CheckAttachedLocked(DmaBufAttachment attachment)
    {
        if (!attachment.IsAttached)
        {
            throw new ArgumentException($"{attachment} is already detached.", nameof(attachment));
        }
    }

    private static void Refuse(string? ruleId, string message, string parameterName)
    {
        if (ruleId is not null && DmaBufValidation.s_enabled)
        {
            throw new DmaBufUsageException(ruleId, message);
        }

        throw new ArgumentException(message, parameterName);
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
            throw new ArgumentOutOfRangeException(nameof(length), length, $"The range {start} + {length} runs past the end of {this} ({Size} bytes).");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CheckPage(long pageNumber)
    {
        if ((ulong)pageNumber >= (ulong)PageCount)
        {
            ThrowPageOutOfRange(pageNumber);
        }
    }

    private void ThrowPageOutOfRange(long pageNumber) =>
        throw new ArgumentOutOfRangeException(nameof(pageNumber), pageNumber, $"{this} has pages 0 to {PageCount - 1}.");

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CheckOwnPage(DmaBufPage page)
    {
        if (!ReferenceEquals(page.Buffer, this))
        {
            ThrowNotOwnPage(page);
        }
    }

    private void ThrowNotOwnPage(DmaBufPage page) =>
        throw new ArgumentException($"{page} is not a mapping of {this}.", nameof(page));

    private static void CheckDirection(DmaDataDirection direction)
    {
        if ((uint)direction > (uint)DmaDataDirection.None)
        {
            throw new ArgumentOutOfRangeException(nameof(direction), direction, "Not a defined DmaDataDirection.");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ThrowIfReleased()
    {
        if (_released)
        {
            ThrowReleased();
        }
    }

    private void ThrowReleased() => throw new ObjectDisposedException(ToString(), $"{this} was released by its last Put.");

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CheckMightSleep(string member)
    {
        if (DmaBufValidation.s_enabled)
        {
            DmaBufValidation.CheckMightSleep("DmaBuffer." + member);
        }
    }
}

/// <summary>A begun CPU access: the start, length and direction given to <see cref="DmaBuffer.BeginCpuAccess"/>.</summary>
/// <param name="Start">The first byte.</param>
/// <param name="Length">The number of bytes.</param>
/// <param name="Direction">The direction.</param>
public readonly record struct CpuAccessRange(long Start, long Length, DmaDataDirection Direction)
{
    /// <summary>The first page of the range's page span: <c>Start / PageSize</c>.</summary>
    public long FirstPage => Start / DmaBuffer.PageSize;

    /// <summary>The last page of the range's page span: <c>(Start + Length - 1) / PageSize</c>; partial pages count as inside.</summary>
    public long LastPage => (Start + Length - 1) / DmaBuffer.PageSize;

    /// <inheritdoc />
    public override string ToString() => $"bytes {Start}..{Start + Length - 1} (pages {FirstPage}-{LastPage}) {Direction}";
}
