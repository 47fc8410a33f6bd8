// Kernel: drivers/gpu/drm/tiny/repaper.c, repaper_fb_dirty(), v5.11 (imported framebuffer)
// Vmaps the framebuffer, allocates the grayscale buffer (failure goes to out_vunmap), begins whole-buffer access for
// reading (failure goes to out_free), converts to gray8, ends the access, then frees and vunmaps. Correct: silent.
using System;
using DmaBuf;

namespace KernelVmap.RepaperFbDirty;

internal static class Repaper
{
    public static int FbDirty(Framebuffer fb, bool allocationFails)
    {
        DmaBuffer dmabuf = fb.Obj[0]!.Buffer;
        DmaBufVmap map;
        byte[]? buf;
        int ret;

        try
        {
            map = dmabuf.Vmap();
        }
        catch (DmaBufException e)
        {
            return -e.Errno;
        }

        buf = allocationFails ? null : new byte[fb.Width * fb.Height];
        if (buf == null)
        {
            ret = E.ENOMEM;
            goto out_vunmap;
        }

        try
        {
            dmabuf.BeginCpuAccess(DmaDataDirection.FromDevice);
        }
        catch (DmaBufException e)
        {
            ret = -e.Errno;
            goto out_free;
        }

        map.GetSpan(0, buf.Length).CopyTo(buf);

        dmabuf.EndCpuAccess(DmaDataDirection.FromDevice);
        ret = 0;

    out_free:
        buf = null;
    out_vunmap:
        dmabuf.Vunmap(map);

        return ret;
    }
}
