// The runtime validator's switch and per-thread state: the atomic mappings each thread holds, and whether it runs
// inside an exporter's atomic callback, which is what DMA0004, DMA0005 and DMA0008 are checked against.
using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;

namespace DmaBuf;

/// <summary>
/// The runtime validator: the .NET counterpart of lockdep and <c>CONFIG_DEBUG_ATOMIC_SLEEP</c> for dma-buf.
/// When it is on, every usage rule that can be seen at run time raises <see cref="DmaBufUsageException"/>
/// with the rule's id at the moment it is broken. The seed's "process context" is the current thread.
/// </summary>
/// <remarks>
/// Off by default. Turn it on with the <see cref="AppContext"/> switch <c>DmaBuf.Validation</c>
/// (for example <c>&lt;RuntimeHostConfigurationOption Include="DmaBuf.Validation" Value="true" /&gt;</c> in the
/// project file) or the environment variable <c>DMABUF_VALIDATION=1</c>. The setting is read once, when the
/// runtime is first used. With it off, the mapping fast path only tests one boolean.
/// </remarks>
public static class DmaBufValidation
{
    /// <summary>The <see cref="AppContext"/> switch that turns the validator on.</summary>
    public const string SwitchName = "DmaBuf.Validation";

    /// <summary>The environment variable that turns the validator on when set to <c>1</c>.</summary>
    public const string EnvironmentVariableName = "DMABUF_VALIDATION";

    // Read-only, so that once the class is initialized the JIT folds every check of it away.
    internal static readonly bool s_enabled = ReadSetting();

    [ThreadStatic]
    private static ThreadContext? t_context;

    /// <summary>Whether the validator is on in this process.</summary>
    public static bool IsEnabled => s_enabled;

    /// <summary>
    /// Declares that the calling code may block here: the kernel's <c>might_sleep()</c>. With the validator on,
    /// it throws <see cref="DmaBufUsageException"/> with rule DMA0005 when the current thread holds an atomic
    /// mapping, and DMA0008 when it runs inside an exporter's atomic kmap callback. With the validator off it
    /// does nothing.
    /// </summary>
    /// <exception cref="DmaBufUsageException">The current thread may not block here.</exception>
    public static void MightSleep()
    {
        if (s_enabled)
        {
            CheckMightSleep("a call that may sleep");
        }
    }

    /// <summary>
    /// The number of atomic dma-buf mappings the current thread holds, as the validator counts them
    /// (always 0 with the validator off). At most 2 are allowed (DMA0004).
    /// </summary>
    public static int AtomicMappingsHeldByCurrentThread => t_context?.LiveHeldCount() ?? 0;

    private static bool ReadSetting()
    {
        if (AppContext.TryGetSwitch(SwitchName, out bool on))
        {
            return on;
        }

        return Environment.GetEnvironmentVariable(EnvironmentVariableName) is "1" or "true" or "TRUE" or "True";
    }

    internal static ThreadContext Context => t_context ??= new ThreadContext();

    /// <summary>Whether the current thread may block here: it runs no exporter atomic callback and holds no atomic mapping.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool MaySleepHere()
    {
        ThreadContext? context = t_context;
        return context is null || (context.AtomicCallbackDepth == 0 && (context.HeldCount == 0 || context.LiveHeldCount() == 0));
    }

    /// <summary>Throws DMA0008 or DMA0005 if the current thread may not block here; <paramref name="what"/> names the call.</summary>
    internal static void CheckMightSleep(string what)
    {
        if (!MaySleepHere())
        {
            ThrowMightSleep(what);
        }
    }

    /// <summary>The DMA0008 or DMA0005 for a call that may block where the current thread may not; only called once <see cref="MaySleepHere"/> said no.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowMightSleep(string what)
    {
        ThreadContext context = Context;
        if (context.AtomicCallbackDepth > 0)
        {
            throw new DmaBufUsageException(
                "DMA0008",
                $"{what} may block inside an exporter's atomic kmap callback; neither the importer nor the exporter (in the callback) is allowed to block.");
        }

        HeldAtomic held = context.LastHeld;
        throw new DmaBufUsageException(
            "DMA0005",
            $"{what} may block while atomic mapping of page {held.PageNumber} of {held.Buffer} is held; unmap it (KunmapAtomic) first or map with Kmap.");
    }

    /// <summary>Per-thread validator state: the seed's "process context".</summary>
    /// <remarks>
    /// The kmap/kunmap_atomic hot path touches only this object and the mapping's slot: a thread holds at most
    /// <see cref="MaxAtomicHeld"/> atomic mappings (a third is refused with DMA0004 before it is recorded), so they live
    /// in two fields, oldest first. A mapping another thread unmapped (reported there as DMA0005), or that the
    /// buffer's release ended, is no longer live in its slot; it is dropped from here the next time this thread counts.
    /// </remarks>
    internal sealed class ThreadContext
    {
        /// <summary>The most atomic mappings a thread may hold (DMA0004).</summary>
        public const int MaxAtomicHeld = 2;

        // Oldest first. Two slots are all a thread may fill; it only grows if an exporter's atomic callback itself maps.
        private HeldAtomic[] _held = new HeldAtomic[MaxAtomicHeld];

        public int AtomicCallbackDepth;

        /// <summary>The thread this context belongs to.</summary>
        public Thread Thread { get; } = Thread.CurrentThread;

        /// <summary>The atomic mappings recorded for this thread, counting any another thread or a release has ended since.</summary>
        public int HeldCount { get; private set; }

        /// <summary>The most recent atomic mapping held; only valid right after <see cref="LiveHeldCount"/> returned a positive count.</summary>
        public HeldAtomic LastHeld => _held[HeldCount - 1];

        /// <summary>"thread 12 ('name')", for messages.</summary>
        public string Describe() => Describe(Thread);

        public static string Describe(Thread thread) =>
            thread.Name is { Length: > 0 } name ? $"thread {thread.ManagedThreadId} ('{name}')" : $"thread {thread.ManagedThreadId}";

        /// <summary>Drops the records of mappings that are no longer live, and counts the rest.</summary>
        /// <returns>The atomic mappings this thread holds.</returns>
        public int LiveHeldCount()
        {
            HeldAtomic[] held = _held;
            int kept = 0;
            for (int i = 0; i < HeldCount; i++)
            {
                if (held[i].IsLive)
                {
                    held[kept++] = held[i];
                }
            }

            for (int i = kept; i < HeldCount; i++)
            {
                held[i] = default;
            }

            HeldCount = kept;
            return kept;
        }

        /// <summary>Records an atomic mapping as the newest one held.</summary>
        /// <param name="mapping">The mapping.</param>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void AddHeld(in HeldAtomic mapping)
        {
            int count = HeldCount;
            HeldAtomic[] held = _held;
            if ((uint)count >= (uint)held.Length)
            {
                held = Grow();
            }

            held[count] = mapping;
            HeldCount = count + 1;
        }

        /// <summary>The position (0 oldest) of the record of a mapping, or -1; searched newest first.</summary>
        /// <param name="page">The mapping's page.</param>
        /// <returns>The position.</returns>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int IndexOfHeld(in DmaBufPage page)
        {
            HeldAtomic[] held = _held;
            for (int i = HeldCount - 1; i >= 0; i--)
            {
                if (held[i].Is(page))
                {
                    return i;
                }
            }

            return -1;
        }

        /// <summary>Forgets the record at <paramref name="index"/>, keeping the others in order.</summary>
        /// <param name="index">Its position.</param>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void RemoveHeldAt(int index)
        {
            HeldAtomic[] held = _held;
            int last = HeldCount - 1;
            for (int i = index; i < last; i++)
            {
                held[i] = held[i + 1];
            }

            held[last] = default;
            HeldCount = last;
        }

        /// <summary>The held atomic mappings, oldest first, for messages.</summary>
        /// <returns>"page N of dma-buf #M" for each, comma-separated.</returns>
        public string DescribeHeld()
        {
            var held = new List<string>(HeldCount);
            for (int i = 0; i < HeldCount; i++)
            {
                held.Add($"page {_held[i].PageNumber} of {_held[i].Buffer}");
            }

            return string.Join(", ", held);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private HeldAtomic[] Grow()
        {
            Array.Resize(ref _held, _held.Length * 2);
            return _held;
        }
    }
}

/// <summary>The record of an atomic mapping in the thread that holds it: the page's buffer, slot and live value.</summary>
internal readonly struct HeldAtomic
{
    private readonly long[] _chunk;
    private readonly int _slot;
    private readonly long _live;

    public HeldAtomic(in DmaBufPage page)
    {
        Buffer = page.Buffer!;
        PageNumber = page.PageNumber;
        _chunk = page.SlotChunk!;
        _slot = page.Slot;
        _live = page.LiveValue;
    }

    public DmaBuffer Buffer { get; }

    public long PageNumber { get; }

    /// <summary>Whether the mapping is still live (not unmapped by another thread, nor ended by the release).</summary>
    public bool IsLive => MappingSlots.ValueOf(_chunk, _slot) == _live;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Is(in DmaBufPage page) => ReferenceEquals(_chunk, page.SlotChunk) && _slot == page.Slot && _live == page.LiveValue;
}
