// Shared by every vmap-era kernel port (v5.6 on) in this tier: the kernel's errno values as negative returns and
// small stand-ins for the DRM types around dma-buf that the ports use. Only what several ports need belongs here.
using DmaBuf;

namespace KernelVmap;

/// <summary>Kernel error returns, negated as the kernel returns them.</summary>
internal static class E
{
    public const int E2BIG = -7;
    public const int ENOMEM = -12;
    public const int EINVAL = -22;
    public const int ENODEV = -19;
}

/// <summary>
/// A GEM object backed by an imported dma-buf (struct drm_gem_object whose import_attach is set): the ports follow the
/// imported case, the one in which the kernel code makes its dma-buf calls.
/// </summary>
internal sealed class GemObject
{
    public GemObject(DmaBuffer buffer) => Buffer = buffer;

    /// <summary>import_attach-&gt;dmabuf.</summary>
    public DmaBuffer Buffer { get; }

    public long Size => Buffer.Size;
}

/// <summary>struct drm_framebuffer: up to four planes, each a GEM object (or null), with their offsets and pitches.</summary>
internal sealed class Framebuffer
{
    public Framebuffer(GemObject?[] obj, int width, int height, int pitch)
    {
        Obj = obj;
        Width = width;
        Height = height;
        Pitch = pitch;
    }

    public GemObject?[] Obj { get; }

    public int NumPlanes => Obj.Length;

    public int Width { get; }

    public int Height { get; }

    public int Pitch { get; }

    public long Offset0 { get; init; }
}

/// <summary>struct drm_rect.</summary>
internal readonly record struct Rect(int X1, int Y1, int X2, int Y2)
{
    public int Width => X2 - X1;

    public int Height => Y2 - Y1;
}

/// <summary>printk and drm_err: they only format their arguments.</summary>
internal static class Log
{
    public static void Error(string format, params object?[] args) => System.Console.Error.WriteLine(format, args);
}
