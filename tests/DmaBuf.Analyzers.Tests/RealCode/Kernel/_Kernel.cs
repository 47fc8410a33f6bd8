// Shared by every ported kernel function: the kernel's errno values as negative returns, and small stand-ins for
// the kernel types around dma-buf that the ports use. Only what several ports need belongs here.
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

/// <summary>printk and friends: they only format their arguments.</summary>
internal static class Log
{
    public static void Error(string format, params object?[] args) => System.Console.Error.WriteLine(format, args);

    public static void Debug(string format, params object?[] args) => System.Diagnostics.Debug.WriteLine(format, args);
}
