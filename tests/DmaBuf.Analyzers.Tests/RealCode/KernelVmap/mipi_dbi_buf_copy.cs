// Kernel: drivers/gpu/drm/drm_mipi_dbi.c, mipi_dbi_buf_copy(), v5.10 (imported framebuffer)
// Buggy, as the kernel had it: the unsupported-format branch of the switch logs and returns -EINVAL after the
// whole-buffer access was begun, skipping dma_buf_end_cpu_access(): DMA0001 at that return. (Later versions set ret
// and fall through to the end; see mipi_dbi_buf_copy_fixed.) The source is the CMA object's own vaddr, not a vmap.
using System;
using DmaBuf;

namespace KernelVmap.MipiDbiBufCopy;

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
                return E.EINVAL; // expect: DMA0001
        }

        try
        {
            buf.EndCpuAccess(DmaDataDirection.FromDevice);
        }
        catch (DmaBufException e)
        {
            ret = -e.Errno;
        }

        return ret;
    }
}
