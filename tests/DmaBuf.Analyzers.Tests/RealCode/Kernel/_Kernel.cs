// Shared by every ported kernel function: the kernel's errno values as negative returns, and small stand-ins for
// the kernel types around dma-buf that the ports use. Only what several ports need belongs here.
using System;
using DmaBuf;

namespace Kernel;

/// <summary>Kernel error returns, negated as the kernel returns them.</summary>
internal static class E
{
    public const int ENOMEM = -12;
    public const int EINVAL = -22;
    public const int EBUSY = -16;
    public const int ENODEV = -19;
    public const int EFAULT = -14;
    public const int ENOENT = -2;
    public const int EIO = -5;
    public const int ENOTTY = -25;
}

/// <summary>A GEM object that may be backed by an imported dma-buf (struct drm_gem_object with import_attach).</summary>
internal sealed class GemObject
{
    public GemObject(long size, DmaBufAttachment? importAttach)
    {
        Size = size;
        ImportAttach = importAttach;
    }

    public long Size { get; }

    public DmaBufAttachment? ImportAttach { get; }
}

/// <summary>
/// printk and friends: they only format their arguments into the kernel's log buffer and never sleep (printk is
/// callable in atomic context), so the stand-in formats into an in-memory ring, with no I/O.
/// </summary>
internal static class Log
{
    private static readonly System.Collections.Concurrent.ConcurrentQueue<string> Ring = new System.Collections.Concurrent.ConcurrentQueue<string>();

    public static void Error(string format, params object?[] args) => Ring.Enqueue(string.Format(format, args));

    public static void Debug(string format, params object?[] args) => Ring.Enqueue(string.Format(format, args));
}

/// <summary>
/// A sleeping lock (struct mutex): mutex_lock may sleep, so it is [MightSleep]. Kept as explicit Lock/Unlock
/// calls so that ports keep the kernel's unlock-at-a-label control flow.
/// </summary>
internal sealed class KMutex
{
    [MightSleep]
    public void Lock() => System.Threading.Monitor.Enter(this);

    public void Unlock() => System.Threading.Monitor.Exit(this);
}

/// <summary>copy_to_user/copy_from_user (may fault in the user page, so may sleep) and GFP_KERNEL allocation.</summary>
internal static class Uaccess
{
    /// <summary>Returns the number of bytes not copied, as the kernel does.</summary>
    [MightSleep]
    public static int CopyToUser(byte[] to, long toOffset, System.Span<byte> from) => from.TryCopyTo(to.AsSpan((int)toOffset)) ? 0 : from.Length;

    /// <summary>Returns the number of bytes not copied, as the kernel does.</summary>
    [MightSleep]
    public static int CopyFromUser(System.Span<byte> to, byte[] from, long fromOffset) => from.AsSpan((int)fromOffset, to.Length).TryCopyTo(to) ? 0 : to.Length;

    /// <summary>kzalloc(..., GFP_KERNEL): may sleep to reclaim memory; null when it fails.</summary>
    [MightSleep]
    public static T? Kzalloc<T>() where T : class, new() => new T();
}

/// <summary>dma-buf calls with no runtime method of their own.</summary>
internal static class Dma
{
    /// <summary>
    /// get_dma_buf(): one more reference to a buffer the caller already holds. The runtime has no bare increment, so
    /// this installs a descriptor (which holds a reference), takes a reference through it and closes the descriptor.
    /// Ports keep the extra reference in a local of its own, so that its put is visible.
    /// </summary>
    [MightSleep]
    public static DmaBuffer GetDmaBuf(DmaBuffer buffer)
    {
        int fd = buffer.Fd();
        DmaBuffer extra = DmaBuffer.Get(fd);
        DmaBuffer.CloseFd(fd);
        return extra;
    }
}
