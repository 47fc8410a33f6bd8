// The identity of every CPU mapping (kmap or kmap_atomic) of one buffer: a slot per mapping, claimed when the page is
// mapped and freed when it is unmapped, each with one compare-and-swap and no lock. A page carries its slot and the
// slot's value while it is live, so a stale copy, a second unmap and two unmaps at once are told apart from the live
// mapping for free; the release waits for the mappings whose exporter callback is still running and then ends the rest.
using System;
using System.Runtime.CompilerServices;
using System.Threading;

namespace DmaBuf;

/// <summary>The mapping slots of one buffer; see the file's opening comment.</summary>
/// <remarks>
/// A slot's value holds its phase in the two low bits (<see cref="Free"/>, <see cref="Mapping"/> while the exporter maps,
/// <see cref="Live"/>, <see cref="Unmapping"/> while the exporter unmaps) and, above them, how many mappings the slot
/// has held, so a value that was live once never matches again. Slots live in chunks that never move: a page refers
/// to its chunk directly, and the table only grows.
/// </remarks>
internal sealed class MappingSlots
{
    public const long Free = 0;
    public const long Mapping = 1;
    public const long Live = 2;
    public const long Unmapping = 3;
    public const long PhaseMask = 3;
    public const long NextGeneration = 4;

    private const int ChunkShift = 5;
    private const int ChunkSize = 1 << ChunkShift;
    private const int ChunkMask = ChunkSize - 1;

    private readonly object _growLock = new();
    private readonly long[] _firstChunk;
    private long[][] _chunks;
    private MappingInfo[][] _info = { new MappingInfo[ChunkSize] };
    private int _hint;

    // The value the hint slot had when the last unmap freed it (so that a claim need not read it first), or -1.
    private long _hintFree = -1;

    public MappingSlots()
    {
        _firstChunk = new long[ChunkSize];
        _chunks = new[] { _firstChunk };
    }

    /// <summary>Claims a free slot for a mapping the exporter is about to make; its value is then <paramref name="free"/> + <see cref="Mapping"/>.</summary>
    /// <param name="slot">The slot's number.</param>
    /// <param name="free">The slot's value while it was free.</param>
    /// <returns>The chunk that holds the slot.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long[] Claim(out int slot, out long free)
    {
        // The slot the last unmap freed, at the value it left: one compare-and-swap and no read, usually in the first chunk.
        int hint = _hint;
        long expected = _hintFree;
        long[] chunk = _firstChunk;
        if (hint >= ChunkSize)
        {
            long[][] chunks = Volatile.Read(ref _chunks);
            if ((uint)(hint >> ChunkShift) >= (uint)chunks.Length)
            {
                return ClaimSlow(out slot, out free);
            }

            chunk = chunks[hint >> ChunkShift];
        }

        if (expected >= 0 && Interlocked.CompareExchange(ref chunk[hint & ChunkMask], expected | Mapping, expected) == expected)
        {
            _hintFree = -1;
            slot = hint;
            free = expected;
            return chunk;
        }

        return ClaimSlow(out slot, out free);
    }

    /// <summary>The exporter mapped the page: the slot is live, with the value the page keeps.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long Publish(long[] chunk, int slot, long free)
    {
        long live = free | Live;
        Volatile.Write(ref chunk[slot & ChunkMask], live);
        return live;
    }

    /// <summary>The mapping was not made (the exporter failed, or the buffer was released meanwhile): the slot is free again.</summary>
    public void Abandon(long[] chunk, int slot, long free)
    {
        Volatile.Write(ref chunk[slot & ChunkMask], (free & ~PhaseMask) + NextGeneration);
        _hint = slot;
    }

    /// <summary>Ends a published mapping that was never handed out, unless the release already ended it.</summary>
    public void Retract(long[] chunk, int slot, long live) =>
        Interlocked.CompareExchange(ref chunk[slot & ChunkMask], (live & ~PhaseMask) + NextGeneration, live);

    /// <summary>Starts the unmap of the mapping whose live value is <paramref name="live"/>; false if it is not live (already unmapped, or being unmapped).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryBeginUnmap(long[] chunk, int slot, long live) =>
        Interlocked.CompareExchange(ref chunk[slot & ChunkMask], live | Unmapping, live) == live;

    /// <summary>The exporter unmapped it: the slot is free, and the old value never matches again.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void EndUnmap(long[] chunk, int slot, long live)
    {
        long free = (live & ~PhaseMask) + NextGeneration;
        Volatile.Write(ref chunk[slot & ChunkMask], free);
        _hint = slot;
        _hintFree = free;
    }

    /// <summary>The unmap failed: the mapping is live again.</summary>
    public static void CancelUnmap(long[] chunk, int slot, long live) => Volatile.Write(ref chunk[slot & ChunkMask], live);

    /// <summary>The slot's value now.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long ValueOf(long[] chunk, int slot) => Volatile.Read(ref chunk[slot & ChunkMask]);

    /// <summary>Records, for the validator, what a slot being mapped holds (written before it is published).</summary>
    public void Describe(int slot, in MappingInfo info) => Volatile.Read(ref _info)[slot >> ChunkShift][slot & ChunkMask] = info;

    /// <summary>What a live slot holds, if it is still the mapping with value <paramref name="live"/> once read.</summary>
    public bool TryRead(int slot, long live, out MappingInfo info)
    {
        long[] chunk = Volatile.Read(ref _chunks)[slot >> ChunkShift];
        if (ValueOf(chunk, slot) != live)
        {
            info = default;
            return false;
        }

        // As a sequence lock: the info was written before the value was published, and is only rewritten once the
        // value has changed, so the same value after the read means the info is that mapping's.
        info = Volatile.Read(ref _info)[slot >> ChunkShift][slot & ChunkMask];
        Interlocked.MemoryBarrier();
        return ValueOf(chunk, slot) == live;
    }

    /// <summary>The number of mappings live now (or being unmapped).</summary>
    public long CountMapped()
    {
        long count = 0;
        foreach (long[] chunk in Volatile.Read(ref _chunks))
        {
            for (int i = 0; i < ChunkSize; i++)
            {
                if ((Volatile.Read(ref chunk[i]) & Live) != 0)
                {
                    count++;
                }
            }
        }

        return count;
    }

    /// <summary>The first live mapping: its slot and value; false when there is none.</summary>
    public bool FindLive(int from, out int slot, out long live)
    {
        long[][] chunks = Volatile.Read(ref _chunks);
        for (slot = from; slot < chunks.Length * ChunkSize; slot++)
        {
            live = ValueOf(chunks[slot >> ChunkShift], slot);
            if ((live & PhaseMask) == Live)
            {
                return true;
            }
        }

        live = 0;
        return false;
    }

    /// <summary>The chunk that holds a slot.</summary>
    public long[] ChunkOf(int slot) => Volatile.Read(ref _chunks)[slot >> ChunkShift];

    /// <summary>
    /// At the release, once no new map or unmap can start (each checks the released flag after claiming its slot):
    /// waits for the exporter callbacks of those under way, then ends every mapping left, so that their pages refuse
    /// their spans from now on.
    /// </summary>
    /// <remarks>
    /// A slot is done only once it is seen free. Between the read that finds a mapping live and the compare-and-swap
    /// that ends it, an unmap that passed its released check just before the put may win the slot; it then sees the
    /// release and puts the mapping back (<see cref="CancelUnmap"/>), so a lost compare-and-swap looks again instead
    /// of leaving that mapping live and counted for good.
    /// </remarks>
    public void EndAll()
    {
        foreach (long[] chunk in Volatile.Read(ref _chunks))
        {
            for (int i = 0; i < ChunkSize; i++)
            {
                var wait = default(SpinWait);
                while (true)
                {
                    long value = Volatile.Read(ref chunk[i]);
                    if ((value & Mapping) != 0)
                    {
                        // A map or unmap under way: it publishes, frees or puts the mapping back.
                        wait.SpinOnce();
                    }
                    else if ((value & PhaseMask) == Free
                        || Interlocked.CompareExchange(ref chunk[i], (value & ~PhaseMask) + NextGeneration, value) == value)
                    {
                        break;
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private long[] ClaimSlow(out int slot, out long free)
    {
        while (true)
        {
            long[][] chunks = Volatile.Read(ref _chunks);
            int total = chunks.Length * ChunkSize;
            int start = (int)((uint)_hint % (uint)total);
            for (int n = 0, s = start; n < total; n++, s = s + 1 == total ? 0 : s + 1)
            {
                ref long value = ref chunks[s >> ChunkShift][s & ChunkMask];
                long seen = Volatile.Read(ref value);
                if ((seen & PhaseMask) == Free && Interlocked.CompareExchange(ref value, seen | Mapping, seen) == seen)
                {
                    _hint = s + 1;
                    _hintFree = -1;
                    slot = s;
                    free = seen;
                    return chunks[s >> ChunkShift];
                }
            }

            Grow(chunks.Length);
        }
    }

    private void Grow(int seen)
    {
        lock (_growLock)
        {
            if (_chunks.Length != seen)
            {
                return;
            }

            // The info first, so that a slot a mapper finds always has its info.
            var info = new MappingInfo[seen * 2][];
            var chunks = new long[seen * 2][];
            Array.Copy(_info, info, seen);
            Array.Copy(_chunks, chunks, seen);
            for (int i = seen; i < chunks.Length; i++)
            {
                info[i] = new MappingInfo[ChunkSize];
                chunks[i] = new long[ChunkSize];
            }

            Volatile.Write(ref _info, info);
            Volatile.Write(ref _chunks, chunks);
            _hint = seen * ChunkSize;
        }
    }
}

/// <summary>What the validator knows of a mapping: its page and address, its kind, and for an atomic one the thread that holds it.</summary>
internal readonly record struct MappingInfo(long PageNumber, nint Address, bool IsAtomic, DmaBufValidation.ThreadContext? Owner);
