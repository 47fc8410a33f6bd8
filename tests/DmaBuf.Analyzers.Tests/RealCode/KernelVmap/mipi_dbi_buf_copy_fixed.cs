// Kernel: drivers/gpu/drm/drm_mipi_dbi.c, mipi_dbi_buf_copy(), v5.10 (imported framebuffer), fixed as later versions do
// The unsupported-format branch sets -EINVAL and breaks out of the switch, so the whole-buffer access is ended on
// every path (the kernel's later mipi_dbi_buf_copy ends it there too). Correct: silent.
using System;
using DmaBuf;

namespace KernelVmap.MipiDbiBufCopyFixed;

internal enum Format
{
    Rgb565,
    Xrgb8888,
    Other,
}

internal static class MipiDbi
{
    public static int BufCopy(byte[] dst, byte[] src, Framebuffer fb, Format format, Rect clip, bool swap)
    {
        DmaBuffer buf = fb.Obj[0]!.Buffer;
        int ret = 0;

        try
        {
            buf.BeginCpuAccess(DmaDataDirection.FromDevice);
        }
        catch (DmaBufException e)
        {
            return -e.Errno;
        }

        switch (format)
        {
            case Format.Rgb565:
                if (swap)
                    src.AsSpan(0, clip.Width * 2).CopyTo(dst);
                else
                    src.AsSpan(0, clip.Width * 2).CopyTo(dst);
                break;
            case Format.Xrgb8888:
                src.AsSpan(0, clip.Width * 2).CopyTo(dst);
                break;
            default:
                Log.Error("Format is not supported: {0}", format);
                ret = E.EINVAL;
                break;
        }

        try
        {
            buf.EndCpuAccess(DmaDataDirection.FromDevice);
        }
        catch (DmaBufException e)
        {
            if (ret == 0)
                ret = -e.Errno;
        }

        return ret;
    }
}
