using System;
using System.Collections.Generic;

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
    public static int AtomicMappingsHeldByCurrentThread => t_context?.AtomicHeld.Count ?? 0;

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

        if (context.AtomicHeld.Count > 0)
        {
            MappingRecord held = context.AtomicHeld[context.AtomicHeld.Count - 1];
            throw new DmaBufUsageException(
                "DMA0005",
                $"{what} may block while atomic mapping of page {held.PageNumber} of {held.Buffer} is held; unmap it (KunmapAtomic) first or map with Kmap.");
        }
    }

    /// <summary>Per-thread validator state: the seed's "process context".</summary>
    internal sealed class ThreadContext
    {
        public readonly List<MappingRecord> AtomicHeld = new(2);
        public int AtomicCallbackDepth;
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
