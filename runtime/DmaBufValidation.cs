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

    internal static bool s_enabled = ReadSetting();

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
    public static int AtomicMappingsHeldByCurrentThread => t_context?.AtomicHeldCount ?? 0;

    private static bool ReadSetting()
    {
        if (AppContext.TryGetSwitch(SwitchName, out bool on))
        {
            return on;
        }

        return Environment.GetEnvironmentVariable(EnvironmentVariableName) is "1" or "true" or "TRUE" or "True";
    }

    internal static ThreadContext Context => t_context ??= new ThreadContext();

    internal static void CheckMightSleep(string what)
    {
        ThreadContext? context = t_context;
        if (context is null)
        {
            return;
        }

        if (context.AtomicCallbackDepth > 0)
        {
            throw new DmaBufUsageException(
                "DMA0008",
                $"{what} may block inside an exporter's atomic kmap callback; neither the importer nor the exporter (in the callback) is allowed to block.");
        }

        if (context.AtomicHeldCount > 0)
        {
            MappingRecord held = context.LastAtomicHeld;
            throw new DmaBufUsageException(
                "DMA0005",
                $"{what} may block while atomic mapping of page {held.PageNumber} of {held.Buffer} is held; unmap it (KunmapAtomic) first or map with Kmap.");
        }
    }

    /// <summary>Per-thread validator state: the seed's "process context".</summary>
    /// <remarks>
    /// The kmap/kunmap_atomic hot path touches only this object: a thread holds at most <see cref="MaxAtomicHeld"/>
    /// atomic mappings (a third is refused with DMA0004 before it is recorded), so they live in two fields, oldest
    /// first, and mapping tokens come from a block the thread reserved, with no shared atomic per mapping.
    /// </remarks>
    internal sealed class ThreadContext
    {
        /// <summary>The most atomic mappings a thread may hold (DMA0004).</summary>
        public const int MaxAtomicHeld = 2;

        // Tokens are unique in the process: each thread takes a block of them from this counter at a time.
        private const long TokenBlock = 1 << 16;
        private static long s_tokenBlocksEnd;

        // Oldest first. Two slots are all a thread may fill; it only grows if an exporter's atomic callback itself maps.
        private MappingRecord[] _held = new MappingRecord[MaxAtomicHeld];
        private long _nextToken;
        private long _tokenLimit;

        public int AtomicCallbackDepth;

        /// <summary>The number of atomic mappings this thread holds.</summary>
        public int AtomicHeldCount { get; private set; }

        /// <summary>The most recent atomic mapping held; only valid when <see cref="AtomicHeldCount"/> is positive.</summary>
        public MappingRecord LastAtomicHeld => _held[AtomicHeldCount - 1];

        /// <summary>A new process-unique mapping token, never 0.</summary>
        /// <returns>The token.</returns>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public long NextToken()
        {
            long token = _nextToken;
            if (token == _tokenLimit)
            {
                token = ReserveTokens();
            }

            _nextToken = token + 1;
            return token;
        }

        /// <summary>Records an atomic mapping as the newest one held.</summary>
        /// <param name="record">The mapping.</param>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void AddAtomicHeld(in MappingRecord record)
        {
            int count = AtomicHeldCount;
            MappingRecord[] held = _held;
            if ((uint)count >= (uint)held.Length)
            {
                held = Grow();
            }

            held[count] = record;
            AtomicHeldCount = count + 1;
        }

        /// <summary>The position (0 oldest) of the held atomic mapping with this token, or -1; searched newest first.</summary>
        /// <param name="token">The mapping's token.</param>
        /// <returns>The position.</returns>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int IndexOfAtomicHeld(long token)
        {
            MappingRecord[] held = _held;
            for (int i = AtomicHeldCount - 1; i >= 0; i--)
            {
                if (held[i].Token == token)
                {
                    return i;
                }
            }

            return -1;
        }

        /// <summary>Forgets the held atomic mapping at <paramref name="index"/>, keeping the others in order.</summary>
        /// <param name="index">Its position.</param>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void RemoveAtomicHeldAt(int index)
        {
            MappingRecord[] held = _held;
            int last = AtomicHeldCount - 1;
            for (int i = index; i < last; i++)
            {
                held[i] = held[i + 1];
            }

            held[last] = default;
            AtomicHeldCount = last;
        }

        /// <summary>The held atomic mappings, oldest first, for messages.</summary>
        /// <returns>"page N of dma-buf #M" for each, comma-separated.</returns>
        public string DescribeAtomicHeld()
        {
            var held = new List<string>(AtomicHeldCount);
            for (int i = 0; i < AtomicHeldCount; i++)
            {
                held.Add($"page {_held[i].PageNumber} of {_held[i].Buffer}");
            }

            return string.Join(", ", held);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private MappingRecord[] Grow()
        {
            Array.Resize(ref _held, _held.Length * 2);
            return _held;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private long ReserveTokens()
        {
            long end = Interlocked.Add(ref s_tokenBlocksEnd, TokenBlock);
            _tokenLimit = end + 1;
            return end - TokenBlock + 1;
        }
    }
}

/// <summary>A mapping the validator tracks: atomic ones in the mapping thread's context, the others in their buffer.</summary>
internal readonly struct MappingRecord
{
    public MappingRecord(DmaBuffer buffer, long pageNumber, bool isAtomic, long token)
    {
        Buffer = buffer;
        PageNumber = pageNumber;
        IsAtomic = isAtomic;
        Token = token;
    }

    public DmaBuffer Buffer { get; }

    public long PageNumber { get; }

    public bool IsAtomic { get; }

    public long Token { get; }
}
