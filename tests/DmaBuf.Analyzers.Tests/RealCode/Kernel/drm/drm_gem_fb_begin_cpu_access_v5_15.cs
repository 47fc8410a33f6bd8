// Kernel: drivers/gpu/drm/drm_gem_framebuffer_helper.c, drm_gem_fb_begin_cpu_access(), v5.15
// The GEM framebuffer helpers that begin and end CPU access on every imported plane of a framebuffer, and their
// user mipi_dbi_buf_copy() (drivers/gpu/drm/drm_mipi_dbi.c, v5.15), the fixed form of mipi_dbi_buf_copy_v4_14.cs:
// - drm_gem_fb_begin_cpu_access() loops over fb->obj[], skipping absent and non-imported objects, and begins
//   access on each import_attach->dmabuf; when one fails it unwinds backwards (`while (i) { --i; ... }`) ending the
//   ones already begun, and returns the error. On success it returns 0 with the accesses begun: the Open half of a
//   pair, which drm_gem_fb_end_cpu_access() closes by the same backwards walk.
// - mipi_dbi_buf_copy() begins through the helper, vmaps the framebuffer (GEM mappings, not dma-buf), converts, and
//   on an unsupported format sets ret = -EINVAL and falls through to the end helper at out_drm_gem_fb_end_cpu_access,
//   which a failed vmap also reaches.
// The whole-buffer begin/end of v4.6+ is ported over 0..obj.Size; the end's return value (logged in the kernel) is
// dropped, the runtime's end reports failure by throwing. Deliberately silent: the buffers are reached through
// fb->obj[i] for a loop index, so neither method's accesses can be named; correct code either way.
using System;
using DmaBuf;

namespace Kernel.Drm.GemFbCpuAccess;

internal sealed class DrmFramebuffer
{
    public const int DrmFormatMaxPlanes = 4;

    public GemObject?[] Obj { get; } = new GemObject?[DrmFormatMaxPlanes];

    public uint Format { get; set; }
}

internal sealed class DrmRect
{
    public int X1;
    public int Y1;
    public int X2;
    public int Y2;
}

internal static class DrmGemFramebufferHelper
{
    public static GemObject? GetObj(DrmFramebuffer fb, int plane) => plane < fb.Obj.Length ? fb.Obj[plane] : null;

    public static int BeginCpuAccess(DrmFramebuffer fb, DmaDataDirection dir)
    {
        DmaBufAttachment? importAttach;
        GemObject? obj;
        int i;
        int ret = 0;

        for (i = 0; i < fb.Obj.Length; ++i)
        {
            obj = GetObj(fb, i);
            if (obj == null)
                continue;
            importAttach = obj.ImportAttach;
            if (importAttach == null)
                continue;
            try
            {
                importAttach.Buffer.BeginCpuAccess(0, obj.Size, dir);
            }
            catch (DmaBufException e)
            {
                ret = -e.Errno;
                goto err_dma_buf_end_cpu_access;
            }
        }

        return 0;

    err_dma_buf_end_cpu_access:
        while (i != 0)
        {
            --i;
            obj = GetObj(fb, i);
            if (obj == null)
                continue;
            importAttach = obj.ImportAttach;
            if (importAttach == null)
                continue;
            importAttach.Buffer.EndCpuAccess(0, obj.Size, dir);
        }

        return ret;
    }

    public static void EndCpuAccess(DrmFramebuffer fb, DmaDataDirection dir)
    {
        int i = fb.Obj.Length;
        DmaBufAttachment? importAttach;
        GemObject? obj;

        while (i != 0)
        {
            --i;
            obj = GetObj(fb, i);
            if (obj == null)
                continue;
            importAttach = obj.ImportAttach;
            if (importAttach == null)
                continue;
            importAttach.Buffer.EndCpuAccess(0, obj.Size, dir);
        }
    }

    // drm_gem_fb_vmap()/drm_gem_fb_vunmap(): the GEM objects' own kernel mappings.
    public static int Vmap(DrmFramebuffer fb, out byte[]? data)
    {
        GemObject? obj = GetObj(fb, 0);
        data = obj == null ? null : new byte[obj.Size];
        return data == null ? E.ENOMEM : 0;
    }

    public static void Vunmap(DrmFramebuffer fb)
    {
    }
}

internal static class MipiDbi
{
    public const uint DrmFormatRgb565 = 0x36314752;
    public const uint DrmFormatXrgb8888 = 0x34325258;

    public static int BufCopy(byte[] dst, DrmFramebuffer fb, DrmRect clip, bool swap)
    {
        byte[]? src;
        int ret;

        ret = DrmGemFramebufferHelper.BeginCpuAccess(fb, DmaDataDirection.FromDevice);
        if (ret != 0)
            return ret;
        ret = DrmGemFramebufferHelper.Vmap(fb, out src);
        if (ret != 0)
            goto out_drm_gem_fb_end_cpu_access;

        switch (fb.Format)
        {
            case DrmFormatRgb565:
                if (swap)
                    src!.AsSpan(0, dst.Length).CopyTo(dst); // drm_fb_swab()
                else
                    src!.AsSpan(0, dst.Length).CopyTo(dst); // drm_fb_memcpy()
                break;
            case DrmFormatXrgb8888:
                src!.AsSpan(0, dst.Length).CopyTo(dst); // drm_fb_xrgb8888_to_rgb565()
                break;
            default:
                Log.Error("Format is not supported: {0:X8}", fb.Format);
                ret = E.EINVAL;
                break;
        }

        DrmGemFramebufferHelper.Vunmap(fb);
    out_drm_gem_fb_end_cpu_access:
        DrmGemFramebufferHelper.EndCpuAccess(fb, DmaDataDirection.FromDevice);

        return ret;
    }
}
