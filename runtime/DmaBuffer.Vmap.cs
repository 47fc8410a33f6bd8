// Whole-buffer CPU mappings: vmap and vunmap. The vmaps of a buffer share one view, made by the exporter's vmap at the
// first and unmapped by its vunmap at the last, under the buffer's lock as the kernel's dma_buf_vmap does under
// dmabuf->lock; each vmap is a slot of the buffer's second MappingSlots, so a stale copy, a second vunmap and two
// vunmaps at once are told apart from the live mapping as for pages. The release ends the vmaps left.
using System;
using System.Runtime.CompilerServices;
using System.Threading;

namespace DmaBuf;

public sealed partial class DmaBuffer
{
    // The vmaps' slots, made at the first vmap; the count and the shared view change only under Gate.
    private MappingSlots? _vmapSlots;
    private int _vmapCount;
    private PageLocation _vmapView;

    /// <summary>The number of vmaps made with <see cref="Vmap"/> and not yet vunmapped (the kernel's <c>vmapping_counter</c>); 0 once released.</summary>
    public int VmapCount
    {
        get
        {
            lock (Gate)
            {
                return _vmapCount;
            }
        }
    }

    /// <summary>
    /// <c>dma_buf_vmap()</c>: maps the whole buffer into one linear range of the CPU's address space; may block. The
    /// first vmap of the buffer calls the exporter's <see cref="DmaBufExporter.Vmap"/>; later ones share its view and are
    /// counted. Vunmap each with <see cref="Vunmap"/> (or dispose it). Access the bytes within a begun CPU access
    /// (<see cref="BeginCpuAccess(DmaDataDirection)"/>): the kernel guarantees coherency only there.
    /// </summary>
    /// <returns>The mapping.</returns>
    /// <exception cref="DmaBufException">The exporter cannot vmap: <see cref="Errno.EINVAL"/> for an exporter without the op,
    /// <see cref="Errno.ENOMEM"/> when it finds no linear range (for the shipped exporters: a buffer larger than one block of page
    /// memory, about 2 GiB, or one the process cannot back). Nothing was mapped.</exception>
    /// <exception cref="DmaBufUsageException">With the validator on: called while an atomic mapping is held (DMA0005).</exception>
    /// <exception cref="ObjectDisposedException">The buffer has been released (also when the last put races this call on another thread).</exception>
    /// <exception cref="InvalidOperationException">Called from inside one of this buffer's exporter callbacks that run under its lock.</exception>
    [MightSleep]
    public DmaBufVmap Vmap()
    {
        CheckMightSleep(nameof(Vmap));
        lock (Gate)
        {
            ThrowIfReleased();
            CheckNotInCallbackLocked(nameof(Vmap));
            MappingSlots slots = _vmapSlots ??= new MappingSlots();
            long[] chunk = slots.Claim(out int slot, out long free);
            if (_vmapCount == 0)
            {
                try
                {
                    using (new CallbackScope(this))
                    {
                        _vmapView = _exporter.MapBuffer(this);
                    }
                }
                catch
                {
                    slots.Abandon(chunk, slot, free);
                    throw;
                }
            }

            _vmapCount++;
            long live = MappingSlots.Publish(chunk, slot, free);
            return new DmaBufVmap(this, _vmapView, chunk, slot, live);
        }
    }

    /// <summary>
    /// <c>dma_buf_vunmap()</c>: unmaps a vmap made by <see cref="Vmap"/>; may block. The last vmap of the buffer calls the
    /// exporter's <see cref="DmaBufExporter.Vunmap"/>. Spans the vmap gave stay within this buffer's memory, but may show
    /// stale bytes.
    /// </summary>
    /// <param name="map">The mapping <see cref="Vmap"/> returned.</param>
    /// <exception cref="ArgumentException"><paramref name="map"/> is the default value; or, with the validator off, a vmap of another buffer.</exception>
    /// <exception cref="DmaBufUsageException">With the validator on: <paramref name="map"/> is a vmap of another buffer, or already
    /// vunmapped (DMA0012); or an atomic mapping is held (DMA0005). Nothing changes.</exception>
    /// <exception cref="ObjectDisposedException">With the validator off: the vmap is already vunmapped (a stale copy, a second
    /// <see cref="DmaBufVmap.Dispose"/>, or another thread vunmapping the same vmap got there first). With either: the buffer has
    /// been released. Nothing changes.</exception>
    /// <exception cref="DmaBufException">The exporter's vunmap threw; the vmap is still mapped.</exception>
    /// <exception cref="InvalidOperationException">Called from inside one of this buffer's exporter callbacks that run under its lock.</exception>
    [MightSleep]
    public void Vunmap(DmaBufVmap map)
    {
        CheckMightSleep(nameof(Vunmap));
        if (!ReferenceEquals(map.Buffer, this))
        {
            ThrowForeignVmap(map);
        }

        long[] chunk = map.SlotChunk!;
        lock (Gate)
        {
            ThrowIfReleased();
            CheckNotInCallbackLocked(nameof(Vunmap));
            if (!MappingSlots.TryBeginUnmap(chunk, map.Slot, map.LiveValue))
            {
                ThrowAlreadyVunmapped(map);
            }

            if (_vmapCount == 1)
            {
                try
                {
                    using (new CallbackScope(this))
                    {
                        _exporter.Vunmap(this, _vmapView.Address);
                    }
                }
                catch
                {
                    MappingSlots.CancelUnmap(chunk, map.Slot, map.LiveValue);
                    throw;
                }

                _vmapView = default;
            }

            _vmapCount--;
            _vmapSlots!.EndUnmap(chunk, map.Slot, map.LiveValue);
        }
    }

    /// <summary>With the validator on, the check of <see cref="DmaBufVmap.GetSpan"/>: CPU access must be begun on the buffer (DMA0007).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void CheckVmapAccessBegun(long offset, int length)
    {
        if (Volatile.Read(ref _begun).Length == 0)
        {
            ThrowVmapAccessNotBegun(offset, length);
        }
    }

    /// <summary>
    /// At the release, once no vmap or vunmap can start (both check the released flag under Gate, which the release set):
    /// ends every vmap left, so that their copies refuse their spans, and calls the exporter's vunmap for the view they
    /// shared. Returns what that vunmap threw, or null.
    /// </summary>
    private Exception? EndVmapsAtRelease()
    {
        _vmapSlots?.EndAll();
        if (_vmapCount == 0)
        {
            return null;
        }

        nint address = _vmapView.Address;
        _vmapCount = 0;
        _vmapView = default;
        try
        {
            _exporter.Vunmap(this, address);
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowVmapAccessNotBegun(long offset, int length) =>
        throw new DmaBufUsageException(
            "DMA0007",
            $"GetSpan({offset}, {length}) of a vmap of {this} with no CPU access begun; call BeginCpuAccess (or CpuAccess) on the buffer first, and EndCpuAccess after the access.");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowForeignVmap(in DmaBufVmap map)
    {
        if (map.Buffer is null)
        {
            throw new ArgumentException($"Vunmap on {this} is given the default DmaBufVmap, which is no mapping.", nameof(map));
        }

        string message = $"Vunmap on {this} is given a {map}; vunmap it with {map.Buffer}.Vunmap.";
        if (DmaBufValidation.s_enabled)
        {
            throw new DmaBufUsageException("DMA0012", message);
        }

        throw new ArgumentException(message, nameof(map));
    }

    /// <summary>A second vunmap of a vmap, or one that lost the race against another thread's vunmap of it.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowAlreadyVunmapped(in DmaBufVmap map)
    {
        // Vunmaps run under Gate one at a time, so of two threads vunmapping one vmap the second finds it vunmapped.
        string message = $"Vunmap on {this}: this vmap is already vunmapped (by an earlier Vunmap or Dispose of it or of a copy, or by another thread first).";
        if (DmaBufValidation.s_enabled)
        {
            throw new DmaBufUsageException("DMA0012", message);
        }

        throw new ObjectDisposedException(map.ToString(), message);
    }
}
