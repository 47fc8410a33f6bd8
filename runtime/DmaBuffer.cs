// The buffer (struct dma_buf): its shape and counts, export, descriptors, references and the release. The sharing
// steps, CPU access, kmap and the validator's checks live in the other DmaBuffer.*.cs files of this partial class.
using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;

namespace DmaBuf;

/// <summary>
/// A shared DMA buffer: the kernel's <c>struct dma_buf</c>. An exporter creates it with <see cref="Export"/>;
/// importers share it through descriptors (<see cref="Fd"/>, <see cref="Get(int)"/>), attach devices and map
/// attachments for DMA, and reach it from the CPU with begin/end CPU access (over a range or the whole buffer), page-wise
/// kmap and whole-buffer vmap.
/// </summary>
/// <remarks>
/// Every method may be called from any thread. Every method that may block carries <see cref="MightSleepAttribute"/>;
/// <see cref="KmapAtomic"/>, <see cref="KunmapAtomic"/> and <see cref="Kunmap"/> do not block: they take no lock.
/// After the last <see cref="Put"/>, every method throws <see cref="ObjectDisposedException"/> (with the validator on,
/// its message starts with <c>DMA0011:</c>). Safe code cannot reach freed memory or another buffer's memory through a
/// buffer of the shipped exporters, whatever it does (DESIGN §2, "Memory safety"; <c>docs/runtime-safety.md</c>).
/// </remarks>
public sealed partial class DmaBuffer
{
    /// <summary>The size of one page in bytes (the kernel's <c>PAGE_SIZE</c>).</summary>
    public const int PageSize = 4096;

    private static long s_nextId;
    private static long s_liveBuffers;

    internal readonly object Gate = new();
    private readonly DmaBufExporter _exporter;
    private readonly List<DmaBufAttachment> _attachments = new();
    private readonly MappingSlots _slots = new();

    // Copy-on-write under Gate, so that the validator's kmap check reads it without a lock.
    private CpuAccessRange[] _begun = Array.Empty<CpuAccessRange>();

    // Changed with compare-and-swap, so that taking a reference needs no lock; the last one is dropped under Gate.
    private int _refCount = 1;
    private int _mappedTables;
    private volatile bool _released;

    // The managed thread id of the thread running an exporter callback under Gate, 0 when none (see CallbackScope).
    private int _callbackThread;

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

    /// <summary>
    /// A process-unique number that names the buffer in messages (as a dma-buf's inode number does). Give it to
    /// <see cref="Get(int, long)"/> and <see cref="CloseFd(int, long)"/> to detect a descriptor number reused for another buffer.
    /// </summary>
    public long Id { get; }

    /// <summary>The exporter that backs the buffer (<c>dmabuf-&gt;ops</c> and <c>dmabuf-&gt;priv</c>).</summary>
    public DmaBufExporter Exporter => _exporter;

    /// <summary>The number of references (the file's reference count); 0 once released.</summary>
    public int ReferenceCount => Volatile.Read(ref _refCount);

    /// <summary>Whether the last reference has been put and the exporter's release has run (or is running).</summary>
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

    /// <summary>The number of scatter-gather tables mapped now, over all attachments; 0 once released.</summary>
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

    /// <summary>The number of pages mapped now with <see cref="Kmap"/> or <see cref="KmapAtomic"/> and not yet unmapped; 0 once released.</summary>
    public long MappedPageCount => _slots.CountMapped();

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
    /// <param name="size">The size in bytes. The shipped exporters allocate at the first use, and refuse there, with
    /// <see cref="Errno.ENOMEM"/>, a size larger than the memory the process may use.</param>
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
    /// The descriptor holds its own reference until <see cref="CloseFd(int)"/> closes it.
    /// </summary>
    /// <remarks>
    /// As with POSIX file descriptors, the number is the lowest free one, and a closed number is given out again at
    /// once: a descriptor kept after its close may name another buffer. Code that keeps descriptors can detect that
    /// with <see cref="Get(int, long)"/> and <see cref="CloseFd(int, long)"/>, passing this buffer's <see cref="Id"/>.
    /// </remarks>
    /// <param name="flags">Descriptor flags (for example <c>O_CLOEXEC</c>), kept with the descriptor.</param>
    /// <returns>The new descriptor, a positive number.</returns>
    /// <exception cref="ObjectDisposedException">The buffer has been released.</exception>
    [MightSleep]
    public int Fd(int flags = 0)
    {
        CheckMightSleep(nameof(Fd));
        AddReference();
        try
        {
            return DescriptorTable.Install(this, flags);
        }
        catch
        {
            // No descriptor, no reference: a failed call changes nothing.
            if (DropReference())
            {
                FinishRelease();
            }

            throw;
        }
    }

    /// <summary><c>dma_buf_get()</c>: takes a new reference to the buffer behind a descriptor; drop it with <see cref="Put"/>.</summary>
    /// <remarks>A number closed and reused names the buffer it was reused for (see <see cref="Fd"/>); <see cref="Get(int, long)"/> refuses that.</remarks>
    /// <param name="fd">A descriptor from <see cref="Fd"/> that is still open.</param>
    /// <returns>The buffer.</returns>
    /// <exception cref="ArgumentException"><paramref name="fd"/> is not an open dma-buf descriptor (the kernel's <c>EBADF</c>).</exception>
    [MightSleep]
    public static DmaBuffer Get(int fd)
    {
        CheckMightSleep(nameof(Get));
        return DescriptorTable.GetReference(fd, bufferId: null);
    }

    /// <summary>
    /// <c>dma_buf_get()</c> for code that keeps descriptors: takes a new reference to the buffer behind
    /// <paramref name="fd"/> only if it is still the buffer with <see cref="Id"/> <paramref name="bufferId"/>.
    /// </summary>
    /// <param name="fd">A descriptor from <see cref="Fd"/> that is still open.</param>
    /// <param name="bufferId">The <see cref="Id"/> of the buffer the descriptor was made for.</param>
    /// <returns>The buffer.</returns>
    /// <exception cref="ArgumentException"><paramref name="fd"/> is not open, or names another buffer now (it was closed and its number reused).</exception>
    [MightSleep]
    public static DmaBuffer Get(int fd, long bufferId)
    {
        CheckMightSleep(nameof(Get));
        return DescriptorTable.GetReference(fd, bufferId);
    }

    /// <summary>Closes a descriptor made by <see cref="Fd"/> (<c>close(2)</c>), dropping the reference it held.</summary>
    /// <remarks>
    /// A number closed and reused names the buffer it was reused for, so a second close of a number closes someone
    /// else's descriptor; <see cref="CloseFd(int, long)"/> refuses that. When the descriptor held the last reference,
    /// this is the last put; see <see cref="Put"/> for a release that throws.
    /// </remarks>
    /// <param name="fd">An open dma-buf descriptor.</param>
    /// <exception cref="ArgumentException"><paramref name="fd"/> is not an open dma-buf descriptor.</exception>
    /// <exception cref="DmaBufUsageException">With the validator on: the descriptor held the last reference and CPU access, a mapped page, a vmap or a mapped attachment is still outstanding.</exception>
    /// <exception cref="DmaBufException"><see cref="Errno.EIO"/>: the descriptor held the last reference and the exporter's release threw; the descriptor is closed and the buffer released all the same.</exception>
    [MightSleep]
    public static void CloseFd(int fd)
    {
        CheckMightSleep(nameof(CloseFd));
        DescriptorTable.Close(fd, bufferId: null);
    }

    /// <summary>Closes <paramref name="fd"/> as <see cref="CloseFd(int)"/> does, only if it still names the buffer with <see cref="Id"/> <paramref name="bufferId"/>.</summary>
    /// <param name="fd">An open dma-buf descriptor.</param>
    /// <param name="bufferId">The <see cref="Id"/> of the buffer the descriptor was made for.</param>
    /// <exception cref="ArgumentException"><paramref name="fd"/> is not open, or names another buffer now (it was closed and its number reused).</exception>
    /// <exception cref="DmaBufUsageException">As for <see cref="CloseFd(int)"/>.</exception>
    /// <exception cref="DmaBufException">As for <see cref="CloseFd(int)"/>.</exception>
    [MightSleep]
    public static void CloseFd(int fd, long bufferId)
    {
        CheckMightSleep(nameof(CloseFd));
        DescriptorTable.Close(fd, bufferId);
    }

    /// <summary>
    /// <c>dma_buf_put()</c>: drops a reference. The last one calls the exporter's <see cref="DmaBufExporter.Release"/>,
    /// exactly once, and the buffer can no longer be used: its pages and tables are unmapped.
    /// </summary>
    /// <remarks>
    /// <para>
    /// The kernel treats a last put with vmaps outstanding as a bug (<c>BUG_ON(dmabuf-&gt;vmapping_counter)</c> in its
    /// release). With the validator on it is DMA0012 and nothing changes; with it off the release vunmaps them, as it
    /// unmaps pages still mapped: the exporter's <see cref="DmaBufExporter.Vunmap"/> runs once, before its
    /// <see cref="DmaBufExporter.Release"/>, and every copy of those vmaps refuses its span from then on.
    /// </para>
    /// <para>
    /// A release that throws cannot be undone: the buffer is released all the same (its count stays 0, its exporter is
    /// free again) and the put throws <see cref="DmaBufException"/> with <see cref="Errno.EIO"/>, the exporter's
    /// exception inside (also when the vunmap of a vmap left outstanding throws). This is the one put that fails and
    /// still changes something.
    /// </para>
    /// </remarks>
    /// <exception cref="ObjectDisposedException">The buffer has already been released (a put too many).</exception>
    /// <exception cref="DmaBufUsageException">With the validator on: this is the last reference and CPU access is still begun (DMA0001),
    /// a page is still mapped (DMA0003), the buffer is still vmapped (DMA0012) or an attachment is still mapped (DMA0009). Nothing
    /// changes, except that atomic mappings held by threads that have exited are unmapped when they are reported (DMA0003).</exception>
    /// <exception cref="DmaBufException"><see cref="Errno.EIO"/>: the exporter's vunmap (of vmaps left outstanding) or release threw; the buffer is released all the same.</exception>
    /// <exception cref="InvalidOperationException">The last put, from inside one of this buffer's exporter callbacks.</exception>
    [MightSleep]
    public void Put()
    {
        CheckMightSleep(nameof(Put));
        if (DropReference())
        {
            FinishRelease();
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"dma-buf #{Id}";

    /// <summary>Takes a reference without a lock; throws if the buffer is already released.</summary>
    internal void AddReference()
    {
        while (true)
        {
            int count = Volatile.Read(ref _refCount);
            if (count <= 0)
            {
                ThrowReleased();
            }

            if (Interlocked.CompareExchange(ref _refCount, count + 1, count) == count)
            {
                return;
            }
        }
    }

    /// <summary>Drops a reference; true when it was the last one and the caller must call <see cref="FinishRelease"/>.</summary>
    internal bool DropReference()
    {
        while (true)
        {
            int count = Volatile.Read(ref _refCount);
            if (count <= 0)
            {
                ThrowReleased();
            }

            if (count == 1)
            {
                lock (Gate)
                {
                    if (TryDropLastLocked())
                    {
                        return true;
                    }
                }
            }
            else if (Interlocked.CompareExchange(ref _refCount, count - 1, count) == count)
            {
                return false;
            }
        }
    }

    /// <summary>The exporter's release, once the last reference is dropped; reports a release that throws as <see cref="Errno.EIO"/>.</summary>
    internal void FinishRelease()
    {
        Interlocked.Decrement(ref s_liveBuffers);

        // Let the maps and unmaps under way finish, so that the exporter's callbacks never overlap or follow its
        // release, and end every mapping and vmap left.
        _slots.EndAll();
        Exception? failure = EndVmapsAtRelease();
        try
        {
            _exporter.Release(this);
        }
        catch (Exception e)
        {
            failure ??= e;
        }
        finally
        {
            _exporter.Unbind();
        }

        if (failure is not null)
        {
            throw new DmaBufException(Errno.EIO, $"{this} is released, but its exporter's Vunmap or Release threw: {failure.Message}", failure);
        }
    }

    /// <summary>The exception for a use after the last put: ObjectDisposedException, naming DMA0011 when the validator is on.</summary>
    internal ObjectDisposedException ReleasedException()
    {
        string message = $"{this} was released by its last Put.";
        if (!DmaBufValidation.s_enabled)
        {
            return new ObjectDisposedException(ToString(), message);
        }

        var e = new ObjectDisposedException(ToString(), $"DMA0011: {message} The code used the buffer after the Put of the last reference.");
        e.HelpLink = RepositoryLinks.RulePages + "DMA0011.md";
        e.Data["RuleId"] = "DMA0011";
        return e;
    }

    // Drops the last reference under Gate, unless another thread took one meanwhile (then the caller retries).
    private bool TryDropLastLocked()
    {
        ThrowIfReleased();
        CheckNotInCallbackLocked("The last Put");
        if (Volatile.Read(ref _refCount) != 1)
        {
            return false;
        }

        if (DmaBufValidation.s_enabled)
        {
            CheckNothingOutstandingLocked();
        }

        if (Interlocked.CompareExchange(ref _refCount, 0, 1) != 1)
        {
            return false;
        }

        _released = true;
        Interlocked.MemoryBarrier();

        // No table of a released buffer stays usable (with the validator off a table may still be mapped here).
        foreach (DmaBufAttachment attachment in _attachments)
        {
            foreach (ScatterGatherTable table in attachment.MappedTables)
            {
                table.MarkUnmapped();
            }

            attachment.MappedTables.Clear();
        }

        _mappedTables = 0;
        return true;
    }

    /// <summary>Marks the current thread, while it holds Gate, as running one of the buffer's exporter callbacks: <c>using (new CallbackScope(this))</c>.</summary>
    private readonly ref struct CallbackScope
    {
        private readonly DmaBuffer _buffer;
        private readonly int _previous;

        public CallbackScope(DmaBuffer buffer)
        {
            _buffer = buffer;
            _previous = buffer._callbackThread;
            buffer._callbackThread = Environment.CurrentManagedThreadId;
        }

        public void Dispose() => _buffer._callbackThread = _previous;
    }

    /// <summary>Refuses a call that changes the buffer from inside one of its exporter callbacks that run under Gate.</summary>
    private void CheckNotInCallbackLocked(string call)
    {
        if (_callbackThread != 0 && _callbackThread == Environment.CurrentManagedThreadId)
        {
            throw new InvalidOperationException(
                $"{call} on {this} from inside its exporter's callback: a callback that runs under the buffer's lock (Attach, Detach, MapDmaBuf, "
                + "UnmapDmaBuf, BeginCpuAccess, EndCpuAccess) may call Fd, Get, a Put or CloseFd that is not the last, the kmap calls and the "
                + "property getters of its own buffer, but nothing that changes what the runtime is in the middle of changing.");
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

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowReleased() => throw ReleasedException();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CheckMightSleep(string member)
    {
        if (DmaBufValidation.s_enabled && !DmaBufValidation.MaySleepHere())
        {
            DmaBufValidation.ThrowMightSleep("DmaBuffer." + member);
        }
    }
}
