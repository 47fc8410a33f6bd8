// The exporter's operations (struct dma_buf_ops), and what the runtime promises an exporter and asks of it.
using System;

namespace DmaBuf;

/// <summary>
/// The exporter's operations on a buffer: the kernel's <c>struct dma_buf_ops</c>. The operations the kernel
/// requires (<c>map_dma_buf</c>, <c>unmap_dma_buf</c>, <c>release</c>, <c>kmap_atomic</c>, <c>kmap</c>) are
/// abstract; the optional ones (among them <c>vmap</c> and <c>vunmap</c>) are virtual and do what the kernel does
/// when they are missing.
/// An exporter instance backs one buffer at a time (it is the kernel's <c>priv</c>), from
/// <see cref="DmaBuffer.Export"/> until its <see cref="Release"/>.
/// </summary>
/// <remarks>
/// <para>
/// The runtime calls these callbacks; importers never do. Callbacks run under the validator's checks:
/// <see cref="KmapAtomic"/> and <see cref="KunmapAtomic"/> run in atomic context, where anything that may
/// block (<see cref="MightSleepAttribute"/>, <see cref="DmaBufValidation.MightSleep"/>) is rule DMA0008.
/// Report failures by throwing <see cref="DmaBufException"/> with an errno.
/// </para>
/// <para>
/// What the runtime promises: <see cref="Release"/> is called exactly once, after every other callback for the buffer has
/// returned, and no callback for the buffer starts after it. A call that makes one callback and sees it throw changes
/// nothing; <see cref="DmaBuffer.Detach"/> and the release cannot be undone once begun, so they complete and report the
/// exception wrapped in a <see cref="DmaBufException"/> with <see cref="Errno.EIO"/>. A table <see cref="MapDmaBuf"/>
/// returns that was mapped before is refused with <see cref="Errno.EINVAL"/> and handed back to <see cref="UnmapDmaBuf"/>.
/// </para>
/// <para>
/// Locks: <see cref="Attach"/>, <see cref="Detach"/>, <see cref="MapDmaBuf"/>, <see cref="UnmapDmaBuf"/>,
/// <see cref="BeginCpuAccess"/>, <see cref="EndCpuAccess"/>, <see cref="Vmap"/> and <see cref="Vunmap"/> run under the
/// buffer's lock (the kernel's <c>dmabuf-&gt;lock</c>). From them, on their own
/// buffer, they may call <see cref="DmaBuffer.Fd"/>, <see cref="DmaBuffer.Get(int)"/>, a <see cref="DmaBuffer.Put"/> or
/// <see cref="DmaBuffer.CloseFd(int)"/> that does not drop the last reference, the kmap and kunmap calls and the
/// property getters; a call that would change what the runtime is in the middle of changing (attach, detach, map,
/// unmap, begin or end CPU access, vmap or vunmap, the last put) throws <see cref="InvalidOperationException"/>. Calls on another
/// buffer are not refused, but may deadlock against a thread that does the reverse. The kmap callbacks and
/// <see cref="Release"/> run without the lock.
/// </para>
/// <para>
/// Memory safety (DESIGN §2): the shipped exporters back their memory with pinned managed arrays that every page and
/// table keeps alive. An exporter that returns raw addresses from <see cref="Kmap"/>, <see cref="KmapAtomic"/>,
/// <see cref="Vmap"/> or in the entries of its tables must itself guarantee that the memory stays valid, and belongs to this buffer alone, for as
/// long as safe code may still touch it: the runtime refuses the span of an unmapped page and every call after the
/// release, but a span taken before an unmap or a vunmap, or a device transfer that started before the release, still uses the
/// raw address. Free such memory only when nothing can reach it any more: keep it for the process's lifetime, for
/// example. A finalizer on an object the pages refer to is not enough, because a span does not keep that object alive.
/// </para>
/// </remarks>
public abstract class DmaBufExporter
{
    private DmaBuffer? _buffer;

    /// <summary>The buffer this exporter backs, or null before <see cref="DmaBuffer.Export"/> and after <see cref="Release"/>.</summary>
    public DmaBuffer? Buffer => _buffer;

    internal bool TryBind(DmaBuffer buffer) => System.Threading.Interlocked.CompareExchange(ref _buffer, buffer, null) is null;

    internal void Unbind() => System.Threading.Volatile.Write(ref _buffer, null);

    /// <summary>
    /// Maps a page for the runtime. The shipped exporters return, beside the address, the pinned array behind it and
    /// the page's index in it, so that the page keeps its memory alive; other exporters return only the address of
    /// their <see cref="Kmap"/> or <see cref="KmapAtomic"/>.
    /// </summary>
    internal virtual PageLocation MapPage(DmaBuffer buffer, long pageNumber, bool atomic) =>
        new(atomic ? KmapAtomic(buffer, pageNumber) : Kmap(buffer, pageNumber), null, 0);

    /// <summary>
    /// The runtime's fast path into <see cref="MapPage"/>: a shipped exporter maps a page whose memory is ready without
    /// ever throwing, and says false when it is not (the runtime then calls <see cref="MapPage"/>, which may throw or
    /// allocate, guarded); any other exporter always says false, since its callbacks may throw.
    /// </summary>
    internal virtual bool TryMapPage(DmaBuffer buffer, long pageNumber, out PageLocation location)
    {
        location = default;
        return false;
    }

    /// <summary>
    /// Vmaps the buffer for the runtime, at its first <see cref="DmaBuffer.Vmap"/>. The shipped exporters return, beside
    /// the address, the pinned array behind it, so that the mapping keeps its memory alive; other exporters return only
    /// the address of their <see cref="Vmap"/>.
    /// </summary>
    internal virtual PageLocation MapBuffer(DmaBuffer buffer) => new(Vmap(buffer), null, 0);

    /// <summary>True for an exporter whose <see cref="Kunmap"/> and <see cref="KunmapAtomic"/> do nothing (the shipped ones): the runtime then need not call them.</summary>
    internal bool UnmapsNothing { get; private protected init; }

    /// <summary>
    /// <c>ops-&gt;attach</c> (optional): accept or refuse a device. The default accepts every device.
    /// Throw <see cref="DmaBufException"/> (for example <see cref="Errno.EINVAL"/> for constraints that cannot be met,
    /// <see cref="Errno.EBUSY"/> for an attach after the first map that cannot be migrated) to refuse it.
    /// </summary>
    /// <param name="attachment">The new attachment; not yet in <see cref="DmaBuffer.Attachments"/>.</param>
    protected internal virtual void Attach(DmaBufAttachment attachment)
    {
    }

    /// <summary><c>ops-&gt;detach</c> (optional): forget an attachment. The default does nothing.</summary>
    /// <param name="attachment">The attachment being detached.</param>
    protected internal virtual void Detach(DmaBufAttachment attachment)
    {
    }

    /// <summary><c>ops-&gt;map_dma_buf</c> (required): make the backing storage available to the attached device and describe it.</summary>
    /// <param name="attachment">The attachment to map for.</param>
    /// <param name="direction">The direction of the DMA.</param>
    /// <returns>A new scatter-gather table that honours the device's constraints.</returns>
    protected internal abstract ScatterGatherTable MapDmaBuf(DmaBufAttachment attachment, DmaDataDirection direction);

    /// <summary><c>ops-&gt;unmap_dma_buf</c> (required): the device is done with the table.</summary>
    /// <param name="attachment">The attachment the table was mapped for.</param>
    /// <param name="table">The table <see cref="MapDmaBuf"/> returned.</param>
    protected internal abstract void UnmapDmaBuf(DmaBufAttachment attachment, ScatterGatherTable table);

    /// <summary>
    /// <c>ops-&gt;release</c> (required): the last reference is gone; free the backing storage. Called exactly once, after
    /// every other callback for the buffer has returned. If it throws, the buffer is released all the same and the
    /// last <see cref="DmaBuffer.Put"/> (or <see cref="DmaBuffer.CloseFd(int)"/>) reports it as <see cref="Errno.EIO"/>.
    /// </summary>
    /// <param name="buffer">The buffer being released.</param>
    protected internal abstract void Release(DmaBuffer buffer);

    /// <summary>
    /// <c>ops-&gt;begin_cpu_access</c> (optional): make the range available and coherent for CPU access in the
    /// given direction; this may allocate, swap in or pin, and may fail (throw <see cref="DmaBufException"/>).
    /// The default does nothing, as the kernel does when the op is missing.
    /// </summary>
    /// <param name="buffer">The buffer.</param>
    /// <param name="start">The first byte of the range.</param>
    /// <param name="length">The range's length in bytes.</param>
    /// <param name="direction">The direction of the access.</param>
    protected internal virtual void BeginCpuAccess(DmaBuffer buffer, long start, long length, DmaDataDirection direction)
    {
    }

    /// <summary><c>ops-&gt;end_cpu_access</c> (optional): flush CPU caches for the range and unpin. The default does nothing.</summary>
    /// <param name="buffer">The buffer.</param>
    /// <param name="start">The first byte of the range.</param>
    /// <param name="length">The range's length in bytes.</param>
    /// <param name="direction">The direction of the access.</param>
    protected internal virtual void EndCpuAccess(DmaBuffer buffer, long start, long length, DmaDataDirection direction)
    {
    }

    /// <summary><c>ops-&gt;kmap_atomic</c> (required): map one page without blocking. Must always succeed.</summary>
    /// <param name="buffer">The buffer.</param>
    /// <param name="pageNumber">The page to map.</param>
    /// <returns>The address of exactly one page of <see cref="DmaBuffer.PageSize"/> bytes.</returns>
    protected internal abstract nint KmapAtomic(DmaBuffer buffer, long pageNumber);

    /// <summary><c>ops-&gt;kunmap_atomic</c> (optional): unmap a page mapped by <see cref="KmapAtomic"/>, without blocking. The default does nothing.</summary>
    /// <param name="buffer">The buffer.</param>
    /// <param name="pageNumber">The page.</param>
    /// <param name="address">The address <see cref="KmapAtomic"/> returned.</param>
    protected internal virtual void KunmapAtomic(DmaBuffer buffer, long pageNumber, nint address)
    {
    }

    /// <summary>
    /// <c>ops-&gt;vmap</c> (optional): map the whole buffer into one linear range of the CPU's address space. The runtime
    /// calls it at the first <see cref="DmaBuffer.Vmap"/> of the buffer only, and shares the address among every vmap until
    /// the last <see cref="DmaBuffer.Vunmap"/>. It may block, allocate and fail (throw <see cref="DmaBufException"/>, for
    /// example <see cref="Errno.ENOMEM"/> when no linear range can be had). The default throws
    /// <see cref="DmaBufException"/> with <see cref="Errno.EINVAL"/>, as <c>dma_buf_vmap</c> returns <c>-EINVAL</c> for an
    /// exporter without the op.
    /// </summary>
    /// <param name="buffer">The buffer.</param>
    /// <returns>The address of <see cref="DmaBuffer.Size"/> bytes of the buffer, linear, valid until <see cref="Vunmap"/>.</returns>
    /// <exception cref="DmaBufException"><see cref="Errno.EINVAL"/>: this exporter cannot vmap (the default).</exception>
    protected internal virtual nint Vmap(DmaBuffer buffer) =>
        throw new DmaBufException(Errno.EINVAL, $"The exporter of {buffer} ({GetType().Name}) has no vmap operation (EINVAL).");

    /// <summary>
    /// <c>ops-&gt;vunmap</c> (optional): the last vmap of the buffer is gone; unmap the range <see cref="Vmap"/> returned.
    /// Called once per <see cref="Vmap"/> call, at the last <see cref="DmaBuffer.Vunmap"/>, or at the release for a vmap
    /// still outstanding then. The default does nothing.
    /// </summary>
    /// <param name="buffer">The buffer.</param>
    /// <param name="address">The address <see cref="Vmap"/> returned.</param>
    protected internal virtual void Vunmap(DmaBuffer buffer, nint address)
    {
    }

    /// <summary><c>ops-&gt;kmap</c> (required): map one page; may block. Must always succeed.</summary>
    /// <param name="buffer">The buffer.</param>
    /// <param name="pageNumber">The page to map.</param>
    /// <returns>The address of exactly one page of <see cref="DmaBuffer.PageSize"/> bytes.</returns>
    protected internal abstract nint Kmap(DmaBuffer buffer, long pageNumber);

    /// <summary><c>ops-&gt;kunmap</c> (optional): unmap a page mapped by <see cref="Kmap"/>. The default does nothing.</summary>
    /// <param name="buffer">The buffer.</param>
    /// <param name="pageNumber">The page.</param>
    /// <param name="address">The address <see cref="Kmap"/> returned.</param>
    protected internal virtual void Kunmap(DmaBuffer buffer, long pageNumber, nint address)
    {
    }
}

/// <summary>
/// Where a mapping (a kmapped page or a vmap of the whole buffer) is: its address and, for the shipped exporters, the
/// pinned array behind it and the index in it of the mapping's first byte.
/// </summary>
/// <param name="Address">The mapping's address.</param>
/// <param name="Array">The array that holds the mapping, or null for an exporter that hands out raw addresses.</param>
/// <param name="Offset">The index in <paramref name="Array"/> of the mapping's first byte.</param>
internal readonly record struct PageLocation(nint Address, byte[]? Array, int Offset);
