// Kernel: drivers/gpu/drm/tinydrm/st7586.c, st7586_buf_copy(), v4.14 (seeded)
// A copy of the v4.14 port (see st7586_buf_copy_v4_14.cs) with ONE seeded bug, of the kind error ladders get: the
// failed dma_buf_begin_cpu_access() no longer returns its error but jumps to a common `out_end:` label placed before the
// `if (import_attach) dma_buf_end_cpu_access()` tail, so the end also runs on the path where the begin failed and
// nothing is begun (DMA0002 at that EndCpuAccess). The paths where the begin succeeded, or with no import_attach,
// are as before.
using System;
using DmaBuf;

namespace Kernel.Round3.Tinydrm.St7586Seeded;

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

internal static class St7586
{
    public const uint DrmFormatXrgb8888 = 0x34325258;

    // st7586_xrgb8888_to_gray332(): kmalloc a gray8 bounce buffer (returns silently when that fails), pack three
    // pixels a byte into dst.
    private static void Xrgb8888ToGray332(byte[] dst, byte[] vaddr, DrmFramebuffer fb, DrmClipRect clip)
    {
        /* 3 pixels per byte, so grow clip to nearest multiple of 3 */
        clip.X1 = clip.X1 / 3 * 3;
        clip.X2 = (clip.X2 + 2) / 3 * 3;

        int len = (clip.X2 - clip.X1) * (clip.Y2 - clip.Y1);
        byte[] buf = new byte[len];
        for (int i = 0; i < len && i < vaddr.Length / 4; i++)
            buf[i] = vaddr[4 * i + 1]; // tinydrm_xrgb8888_to_gray8()

        int s = 0;
        int d = 0;
        for (int y = clip.Y1; y < clip.Y2; y++)
        {
            for (int x = clip.X1; x < clip.X2; x += 3)
            {
                int val = buf[s++] & 0xc0;
                if ((val & 0xc0) != 0)
                    val |= 0x20;
                val |= (buf[s++] & 0xc0) >> 3;
                if ((val & 0x18) != 0)
                    val |= 0x04;
                val |= buf[s++] >> 6;
                if (d < dst.Length)
                    dst[d++] = (byte)~val;
            }
        }

        /* now adjust the clip so it applies to dst */
        clip.X1 /= 3;
        clip.X2 /= 3;
    }

    public static int BufCopy(byte[] dst, DrmFramebuffer fb, DrmClipRect clip)
    {
        DrmGemCmaObject cmaObj = fb.Obj; // drm_fb_cma_get_gem_obj(fb, 0)
        DmaBufAttachment? importAttach = cmaObj.Base.ImportAttach;
        byte[] src = cmaObj.Vaddr;
        int ret = 0;

        if (importAttach != null)
        {
            try
            {
                importAttach.Buffer.BeginCpuAccess(DmaDataDirection.FromDevice);
            }
            catch (DmaBufException e)
            {
                ret = -e.Errno;
            }

            if (ret != 0)
                goto out_end; // seeded: was `return ret;`
        }

        switch (fb.Format)
        {
            case DrmFormatXrgb8888:
                Xrgb8888ToGray332(dst, src, fb, clip);
                break;
            default:
                Log.Error("Format is not supported: {0:X8}", fb.Format); // dev_err_once()
                ret = E.EINVAL;
                break;
        }

    out_end:
        if (importAttach != null)
            importAttach.Buffer.EndCpuAccess(DmaDataDirection.FromDevice); // expect: DMA0002

        return ret;
    }
}
