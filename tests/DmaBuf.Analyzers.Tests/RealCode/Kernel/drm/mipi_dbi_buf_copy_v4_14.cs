// Kernel: drivers/gpu/drm/tinydrm/mipi-dbi.c, mipi_dbi_buf_copy(), v4.14
// tinydrm's MIPI DBI framebuffer copy: for a framebuffer whose CMA object was imported, begin CPU access
// (DMA_FROM_DEVICE) on import_attach->dmabuf, convert the clip into the transmit buffer according to the format, and
// end the access under a second `if (import_attach)` on the same local. The whole-buffer begin/end of v4.6+ is ported
// as BeginCpuAccess/EndCpuAccess over 0..obj.Size.
// The bug: an unsupported format logs and `return -EINVAL` from the switch's default case with the access still
// begun (DMA0001 there). Later versions (drivers/gpu/drm/drm_mipi_dbi.c) set `ret = -EINVAL` and fall through to
// the end instead (see drm_gem_fb_begin_cpu_access_v5_15.cs).
using System;
using DmaBuf;

namespace Kernel.Tinydrm.MipiDbi414;

internal sealed class DrmGemCmaObject
{
    public DrmGemCmaObject(GemObject @base, byte[] vaddr)
    {
        Base = @base;
        Vaddr = vaddr;
    }

    public GemObject Base { get; }

    public byte[] Vaddr { get; }
}

internal sealed class DrmFramebuffer
{
    public DrmFramebuffer(DrmGemCmaObject obj, uint format)
    {
        Obj = obj;
        Format = format;
    }

    public DrmGemCmaObject Obj { get; }

    public uint Format { get; }
}

internal sealed class DrmClipRect
{
    public int X1;
    public int Y1;
    public int X2;
    public int Y2;
}

internal static class MipiDbi
{
    public const uint DrmFormatRgb565 = 0x36314752;
    public const uint DrmFormatXrgb8888 = 0x34325258;

    private static void Swab16(byte[] dst, byte[] src, DrmFramebuffer fb, DrmClipRect clip) => src.AsSpan(0, dst.Length).CopyTo(dst);

    private static void Memcpy(byte[] dst, byte[] src, DrmFramebuffer fb, DrmClipRect clip) => src.AsSpan(0, dst.Length).CopyTo(dst);

    private static void Xrgb8888ToRgb565(byte[] dst, byte[] src, DrmFramebuffer fb, DrmClipRect clip, bool swap) => src.AsSpan(0, dst.Length).CopyTo(dst);

    public static int BufCopy(byte[] dst, DrmFramebuffer fb, DrmClipRect clip, bool swap)
    {
        DrmGemCmaObject cmaObj = fb.Obj; // drm_fb_cma_get_gem_obj(fb, 0)
        DmaBufAttachment? importAttach = cmaObj.Base.ImportAttach;
        byte[] src = cmaObj.Vaddr;
        int ret = 0;

        if (importAttach != null)
        {
            try
            {
                importAttach.Buffer.BeginCpuAccess(0, cmaObj.Base.Size, DmaDataDirection.FromDevice);
            }
            catch (DmaBufException e)
            {
                return -e.Errno;
            }
        }

        switch (fb.Format)
        {
            case DrmFormatRgb565:
                if (swap)
                    Swab16(dst, src, fb, clip);
                else
                    Memcpy(dst, src, fb, clip);
                break;
            case DrmFormatXrgb8888:
                Xrgb8888ToRgb565(dst, src, fb, clip, swap);
                break;
            default:
                Log.Error("Format is not supported: {0:X8}", fb.Format);
                return E.EINVAL; // expect: DMA0001
        }

        if (importAttach != null)
            importAttach.Buffer.EndCpuAccess(0, cmaObj.Base.Size, DmaDataDirection.FromDevice);

        return ret;
    }
}
