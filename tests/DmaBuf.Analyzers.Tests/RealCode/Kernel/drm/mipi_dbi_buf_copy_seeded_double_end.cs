// Kernel: drivers/gpu/drm/tinydrm/mipi-dbi.c, mipi_dbi_buf_copy(), v4.14 (seeded)
// A copy of the v4.14 copy (see mipi_dbi_buf_copy_v4_14.cs) with its DMA0001 half fixed and ONE seeded bug: the
// default case now ends the access itself, `if (import_attach) dma_buf_end_cpu_access(...)`, but then sets
// `ret = -EINVAL` and `break`s into the common end instead of returning, so the access is ended twice (DMA0002 at
// the common end, reached after the default case's end).
using System;
using DmaBuf;

namespace Kernel.Tinydrm.MipiDbiSeeded;

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
                if (importAttach != null)
                    importAttach.Buffer.EndCpuAccess(0, cmaObj.Base.Size, DmaDataDirection.FromDevice);
                ret = E.EINVAL;
                break;
        }

        if (importAttach != null)
            importAttach.Buffer.EndCpuAccess(0, cmaObj.Base.Size, DmaDataDirection.FromDevice); // expect: DMA0002

        return ret;
    }
}
