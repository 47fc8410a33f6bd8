// The validator's checks on a buffer (the begun range of a kmap, what is still outstanding at the last put) and the
// messages of every refused map and unmap, kept out of the fast paths so that those stay small enough to inline.
using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;

namespace DmaBuf;

public sealed partial class DmaBuffer
{
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

        throw new DmaBufUsageException("DMA0006", $"{call}({pageNumber}) on {this} is outside the begun CPU access ({string.Join("; ", begun)}).");
    }

    /// <summary>The last put's checks: nothing begun (DMA0001), mapped (DMA0003), vmapped (DMA0012) or attached and mapped (DMA0009).</summary>
    private void CheckNothingOutstandingLocked()
    {
        if (_begun.Length > 0)
        {
            throw new DmaBufUsageException("DMA0001", $"The last reference to {this} is put while CPU access is still begun ({string.Join(", ", _begun)}); call EndCpuAccess first.");
        }

        if (_slots.FindLive(0, out _, out _))
        {
            if (UnmapAtomicOfExitedThreads() is { } dropped)
            {
                throw new DmaBufUsageException("DMA0003", $"The last reference to {this} is put while {dropped}; those mappings are unmapped now, so the next Put can release the buffer.");
            }

            if (_slots.FindLive(0, out int slot, out long live))
            {
                string what = !_slots.TryRead(slot, live, out MappingInfo info) ? "a page is still mapped"
                    : info.IsAtomic ? $"page {info.PageNumber} is still mapped by {nameof(KmapAtomic)} on {info.Owner?.Describe()}"
                    : $"page {info.PageNumber} is still mapped by {nameof(Kmap)}";
                throw new DmaBufUsageException("DMA0003", $"The last reference to {this} is put while {what}.");
            }
        }

        if (_vmapCount > 0)
        {
            throw new DmaBufUsageException("DMA0012", $"The last reference to {this} is put while it is still vmapped ({_vmapCount} vmap(s) not vunmapped); call Vunmap first.");
        }

        if (_mappedTables > 0)
        {
            throw new DmaBufUsageException("DMA0009", $"The last reference to {this} is put while {_mappedTables} attachment table(s) are still mapped; call UnmapAttachment first.");
        }
    }

    /// <summary>
    /// Unmaps the atomic mappings held by threads that have exited (nothing else can unmap them), so that they do not
    /// pin the buffer; describes them, or returns null when there were none.
    /// </summary>
    private string? UnmapAtomicOfExitedThreads()
    {
        List<string>? dropped = null;
        DmaBufValidation.ThreadContext context = DmaBufValidation.Context;
        for (int from = 0; _slots.FindLive(from, out int slot, out long live); from = slot + 1)
        {
            if (!_slots.TryRead(slot, live, out MappingInfo info) || !info.IsAtomic || info.Owner is not { } owner || owner.Thread.IsAlive)
            {
                continue;
            }

            long[] chunk = _slots.ChunkOf(slot);
            if (!MappingSlots.TryBeginUnmap(chunk, slot, live))
            {
                continue;
            }

            context.AtomicCallbackDepth++;
            try
            {
                _exporter.KunmapAtomic(this, info.PageNumber, info.Address);
            }
            catch
            {
                MappingSlots.CancelUnmap(chunk, slot, live);
                throw;
            }
            finally
            {
                context.AtomicCallbackDepth--;
            }

            _slots.EndUnmap(chunk, slot, live);
            (dropped ??= new List<string>()).Add($"page {info.PageNumber} is mapped by {nameof(KmapAtomic)} on {owner.Describe()}, which has exited without unmapping it");
        }

        return dropped is null ? null : string.Join("; ", dropped);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowThirdAtomic(long pageNumber, DmaBufValidation.ThreadContext context) =>
        throw new DmaBufUsageException(
            "DMA0004",
            $"KmapAtomic({pageNumber}) on {this} would hold a third atomic mapping in this thread (held: {context.DescribeHeld()}); at most 2 are allowed.");

    /// <summary>An unmap whose arguments do not match: another buffer's page, a page number out of range, the wrong call or page number.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowWrongUnmap(long pageNumber, DmaBufPage page, bool atomic)
    {
        if (!ReferenceEquals(page.Buffer, this))
        {
            throw new ArgumentException($"{page} is not a mapping of {this}.", nameof(page));
        }

        if ((ulong)pageNumber >= (ulong)PageCount)
        {
            ThrowPageOutOfRange(pageNumber);
        }

        string call = atomic ? nameof(KunmapAtomic) : nameof(Kunmap);
        if (page.IsAtomic != atomic)
        {
            string right = page.IsAtomic ? nameof(KunmapAtomic) : nameof(Kunmap);
            RefuseUnmap($"{call}({pageNumber}) on {this} unmaps a mapping made by {(page.IsAtomic ? nameof(KmapAtomic) : nameof(Kmap))}({page.PageNumber}); use {right}.", nameof(page));
        }

        RefuseUnmap($"{call}({pageNumber}) on {this} is given the mapping of page {page.PageNumber}; unmap it with page number {page.PageNumber}.", nameof(pageNumber));
    }

    private static void RefuseUnmap(string message, string parameterName)
    {
        if (DmaBufValidation.s_enabled)
        {
            throw new DmaBufUsageException("DMA0003", message);
        }

        throw new ArgumentException(message, parameterName);
    }

    /// <summary>A second unmap of a mapping, or one that lost the race against another thread's unmap of it.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowAlreadyUnmapped(in DmaBufPage page)
    {
        string call = page.IsAtomic ? nameof(KunmapAtomic) : nameof(Kunmap);
        string message = MappingSlots.ValueOf(page.SlotChunk!, page.Slot) == (page.LiveValue | MappingSlots.Unmapping)
            ? $"{call}({page.PageNumber}) on {this}: another thread is unmapping this mapping of page {page.PageNumber} at the same time."
            : $"{call}({page.PageNumber}) on {this}: the mapping of page {page.PageNumber} is already unmapped.";
        if (DmaBufValidation.s_enabled)
        {
            throw new DmaBufUsageException("DMA0003", message);
        }

        throw new ObjectDisposedException(page.ToString(), message);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowHeldAcrossThreads(in DmaBufPage page, DmaBufValidation.ThreadContext? owner, DmaBufValidation.ThreadContext context)
    {
        string mapper = owner?.Describe() ?? "another thread";
        throw new DmaBufUsageException(
            "DMA0005",
            $"KunmapAtomic({page.PageNumber}) on {this} runs on {context.Describe()}, but the atomic mapping was made on {mapper}: it was held across a "
            + $"thread switch (an await that resumed on another thread, or a hand-off), and nothing that may block may run while an atomic mapping is held. "
            + $"The page is unmapped now, and no longer counted for {mapper}.");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowPageOutOfRange(long pageNumber) =>
        throw new ArgumentOutOfRangeException(nameof(pageNumber), pageNumber, $"{this} has pages 0 to {PageCount - 1}.");
}
