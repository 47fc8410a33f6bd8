// Page-wise CPU mappings: kmap, kunmap and their atomic variants. None takes a lock: a mapping is a slot of the
// buffer's MappingSlots, claimed and freed with one compare-and-swap each, and the released flag is read after the claim,
// so a mapping racing the last put either throws ObjectDisposedException or keeps its own page's memory alive.
using System;
using System.Runtime.CompilerServices;

namespace DmaBuf;

public sealed partial class DmaBuffer
{
    /// <summary>
    /// <c>dma_buf_kmap()</c>: maps one page into the CPU's address space; may block. Unmap it with <see cref="Kunmap"/>
    /// (or dispose the page). The page should lie within a begun CPU access.
    /// </summary>
    /// <param name="pageNumber">The page, 0 to <see cref="PageCount"/> - 1.</param>
    /// <returns>The mapped page.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The page is negative or past the end.</exception>
    /// <exception cref="DmaBufUsageException">With the validator on: an atomic mapping is held (DMA0005), the page is outside every begun access (DMA0006) or no access is begun (DMA0007).</exception>
    /// <exception cref="DmaBufException">The exporter could not back the page (for example <see cref="Errno.ENOMEM"/>).</exception>
    /// <exception cref="ObjectDisposedException">The buffer has been released (also when the last put races this call on another thread).</exception>
    [MightSleep]
    public DmaBufPage Kmap(long pageNumber)
    {
        ThrowIfReleased();
        CheckPage(pageNumber);
        if (DmaBufValidation.s_enabled)
        {
            if (!DmaBufValidation.MaySleepHere())
            {
                DmaBufValidation.ThrowMightSleep($"Kmap({pageNumber}) on {this}");
            }

            CheckPageBegun(pageNumber, nameof(Kmap));
        }

        return MapPage(pageNumber, atomic: false, owner: null);
    }

    /// <summary><c>dma_buf_kunmap()</c>: unmaps a page mapped with <see cref="Kmap"/>. Does not block.</summary>
    /// <param name="pageNumber">The page number given to <see cref="Kmap"/>.</param>
    /// <param name="page">The mapping <see cref="Kmap"/> returned.</param>
    /// <exception cref="ArgumentException"><paramref name="page"/> is not a mapping of this buffer; or, with the validator off,
    /// it is atomic (parameter <c>page</c>) or of another page number (parameter <c>pageNumber</c>).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pageNumber"/> is negative or past the end.</exception>
    /// <exception cref="DmaBufUsageException">With the validator on: the mapping is atomic, of another page, or already unmapped (DMA0003).</exception>
    /// <exception cref="ObjectDisposedException">With the validator off: the mapping is already unmapped (or another thread is unmapping it).
    /// With either: the buffer has been released.</exception>
    public void Kunmap(long pageNumber, DmaBufPage page)
    {
        ThrowIfReleased();
        CheckUnmap(pageNumber, page, atomic: false);
        UnmapPage(page);
    }

    /// <summary>
    /// <c>dma_buf_kmap_atomic()</c>: maps one page without blocking. Hold at most two atomic mappings at a time
    /// per thread, and do nothing that may block until they are unmapped with <see cref="KunmapAtomic"/> on the same thread.
    /// </summary>
    /// <param name="pageNumber">The page, 0 to <see cref="PageCount"/> - 1.</param>
    /// <returns>The mapped page.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The page is negative or past the end.</exception>
    /// <exception cref="DmaBufUsageException">With the validator on: the thread already holds two atomic mappings (DMA0004), the page is outside every begun access (DMA0006) or no access is begun (DMA0007).</exception>
    /// <exception cref="DmaBufException">The exporter has not prepared the memory (<see cref="Errno.EINVAL"/> for the shipped exporters before any begin or map).</exception>
    /// <exception cref="ObjectDisposedException">The buffer has been released (also when the last put races this call on another thread).</exception>
    public DmaBufPage KmapAtomic(long pageNumber)
    {
        ThrowIfReleased();
        CheckPage(pageNumber);
        if (DmaBufValidation.s_enabled)
        {
            return MapAtomicValidated(pageNumber);
        }

        return MapPage(pageNumber, atomic: true, owner: null);
    }

    /// <summary><c>dma_buf_kunmap_atomic()</c>: unmaps a page mapped with <see cref="KmapAtomic"/>. Does not block.</summary>
    /// <remarks>
    /// With the validator on, an atomic mapping unmapped on another thread than the one that mapped it (after an
    /// <c>await</c> that resumed elsewhere, or a hand-off) is unmapped, no longer counted for the mapping thread, and
    /// then reported as DMA0005: it was held across a thread switch.
    /// </remarks>
    /// <param name="pageNumber">The page number given to <see cref="KmapAtomic"/>.</param>
    /// <param name="page">The mapping <see cref="KmapAtomic"/> returned.</param>
    /// <exception cref="ArgumentException"><paramref name="page"/> is not a mapping of this buffer; or, with the validator off,
    /// it is not atomic (parameter <c>page</c>) or of another page number (parameter <c>pageNumber</c>).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pageNumber"/> is negative or past the end.</exception>
    /// <exception cref="DmaBufUsageException">With the validator on: the mapping is not atomic, of another page, or already unmapped (DMA0003);
    /// or it was mapped on another thread (DMA0005, after the unmap).</exception>
    /// <exception cref="ObjectDisposedException">With the validator off: the mapping is already unmapped (or another thread is unmapping it).
    /// With either: the buffer has been released.</exception>
    public void KunmapAtomic(long pageNumber, DmaBufPage page)
    {
        ThrowIfReleased();
        CheckUnmap(pageNumber, page, atomic: true);
        if (DmaBufValidation.s_enabled)
        {
            UnmapAtomicValidated(page);
            return;
        }

        UnmapPage(page);
    }

    /// <summary>
    /// The mapping itself, shared by both kinds: claim a slot, check the release after the claim (the release waits
    /// for claimed slots, so the exporter is never called after its release starts), map, publish, and check again.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private DmaBufPage MapPage(long pageNumber, bool atomic, DmaBufValidation.ThreadContext? owner)
    {
        long[] chunk = _slots.Claim(out int slot, out long free);
        if (_released)
        {
            AbandonReleased(chunk, slot, free);
        }

        // The shipped exporters map a prepared page without a call that can throw; anything else goes through the guard.
        if (!_exporter.TryMapPage(this, pageNumber, out PageLocation location))
        {
            location = MapInExporter(pageNumber, atomic, chunk, slot, free);
        }

        if (DmaBufValidation.s_enabled)
        {
            _slots.Describe(slot, new MappingInfo(pageNumber, location.Address, atomic, owner));
        }

        long live = MappingSlots.Publish(chunk, slot, free);
        if (_released)
        {
            RetractReleased(chunk, slot, live);
        }

        return new DmaBufPage(this, pageNumber, atomic, location, chunk, slot, live);
    }

    /// <summary>
    /// The exporter's map of a claimed slot, when its fast path cannot serve it; if it throws, the slot is free again.
    /// With the validator on, an atomic map runs in atomic context (DMA0008).
    /// </summary>
    private PageLocation MapInExporter(long pageNumber, bool atomic, long[] chunk, int slot, long free)
    {
        DmaBufValidation.ThreadContext? context = atomic && DmaBufValidation.s_enabled ? DmaBufValidation.Context : null;
        try
        {
            if (context is not null)
            {
                context.AtomicCallbackDepth++;
            }

            return _exporter.MapPage(this, pageNumber, atomic);
        }
        catch
        {
            _slots.Abandon(chunk, slot, free);
            throw;
        }
        finally
        {
            if (context is not null)
            {
                context.AtomicCallbackDepth--;
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void AbandonReleased(long[] chunk, int slot, long free)
    {
        _slots.Abandon(chunk, slot, free);
        ThrowReleased();
    }

    // The last put came in while the exporter mapped: hand out nothing (the release ends the mapping, or this does).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RetractReleased(long[] chunk, int slot, long live)
    {
        _slots.Retract(chunk, slot, live);
        ThrowReleased();
    }

    /// <summary>The unmap itself, shared by both kinds: one thread wins the slot, calls the exporter and frees it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void UnmapPage(in DmaBufPage page)
    {
        long[] chunk = page.SlotChunk!;
        if (!MappingSlots.TryBeginUnmap(chunk, page.Slot, page.LiveValue))
        {
            ThrowAlreadyUnmapped(page);
        }

        if (_released)
        {
            CancelReleased(page);
        }

        if (!_exporter.UnmapsNothing)
        {
            UnmapInExporter(page);
        }

        _slots.EndUnmap(chunk, page.Slot, page.LiveValue);
    }

    /// <summary>
    /// The exporter's unmap of a mapping this thread won, for an exporter whose unmap does something; if it throws, the
    /// mapping is live again. With the validator on, an atomic unmap runs in atomic context (DMA0008).
    /// </summary>
    private void UnmapInExporter(in DmaBufPage page)
    {
        DmaBufValidation.ThreadContext? context = page.IsAtomic && DmaBufValidation.s_enabled ? DmaBufValidation.Context : null;
        try
        {
            if (context is not null)
            {
                context.AtomicCallbackDepth++;
            }

            if (page.IsAtomic)
            {
                _exporter.KunmapAtomic(this, page.PageNumber, page.Address);
            }
            else
            {
                _exporter.Kunmap(this, page.PageNumber, page.Address);
            }
        }
        catch
        {
            MappingSlots.CancelUnmap(page.SlotChunk!, page.Slot, page.LiveValue);
            throw;
        }
        finally
        {
            if (context is not null)
            {
                context.AtomicCallbackDepth--;
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CancelReleased(in DmaBufPage page)
    {
        MappingSlots.CancelUnmap(page.SlotChunk!, page.Slot, page.LiveValue);
        ThrowReleased();
    }

    // The validated KmapAtomic: DMA0004, then DMA0007/DMA0006, then the exporter's callback with blocking forbidden
    // (DMA0008); the mapping is recorded in this thread's context only once the exporter has mapped it.
    private DmaBufPage MapAtomicValidated(long pageNumber)
    {
        DmaBufValidation.ThreadContext context = DmaBufValidation.Context;
        if (context.HeldCount >= DmaBufValidation.ThreadContext.MaxAtomicHeld && context.LiveHeldCount() >= DmaBufValidation.ThreadContext.MaxAtomicHeld)
        {
            ThrowThirdAtomic(pageNumber, context);
        }

        CheckPageBegun(pageNumber, nameof(KmapAtomic));
        DmaBufPage page = MapPage(pageNumber, atomic: true, context);
        context.AddHeld(new HeldAtomic(page));
        return page;
    }

    // The validated KunmapAtomic, once the call and page number are known to match. A mapping this thread holds is
    // forgotten only once the exporter has unmapped it, so a failed call changes nothing; one it does not hold is
    // already unmapped (DMA0003) or another thread's, which is unmapped and then reported (DMA0005).
    private void UnmapAtomicValidated(in DmaBufPage page)
    {
        DmaBufValidation.ThreadContext context = DmaBufValidation.Context;
        if (!page.IsMapped)
        {
            context.LiveHeldCount();
            ThrowAlreadyUnmapped(page);
        }

        if (context.IndexOfHeld(page) < 0)
        {
            UnmapForeignAtomic(page, context);
            return;
        }

        UnmapPage(page);

        // Looked up again: the exporter's callback ran on this thread in between.
        int index = context.IndexOfHeld(page);
        if (index >= 0)
        {
            context.RemoveHeldAt(index);
        }
    }

    /// <summary>Unmaps an atomic mapping another thread holds, then reports that it was held across a thread switch (DMA0005).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void UnmapForeignAtomic(in DmaBufPage page, DmaBufValidation.ThreadContext context)
    {
        bool described = _slots.TryRead(page.Slot, page.LiveValue, out MappingInfo info);
        UnmapPage(page);
        ThrowHeldAcrossThreads(page, described ? info.Owner : null, context);
    }

    /// <summary>The checks every unmap makes before anything changes; the page carries what they need.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CheckUnmap(long pageNumber, in DmaBufPage page, bool atomic)
    {
        // A page's own number is always in range, so a page number equal to it needs no range check of its own.
        if (!ReferenceEquals(page.Buffer, this) || page.IsAtomic != atomic || pageNumber != page.PageNumber)
        {
            ThrowWrongUnmap(pageNumber, page, atomic);
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
}
