// Kernel: drivers/gpu/drm/tiny/st7586.c, st7586_buf_copy(), v5.11, as st7586_fb_dirty() calls it (imported
// framebuffer), with a seeded bug
// Buggy (constructed from the v5.11 code, not a kernel commit): on a failed begin the copy vunmaps and then falls
// through to the out label, which vunmaps the same vmap again: DMA0012 at the second Vunmap.
using System;
using DmaBuf;

namespace KernelVmap.St7586BufCopy;

internal static class St7586
{
    public static int BufCopy(byte[] dst, Framebuffer fb, Rect clip)
    {
        DmaBuffer buf = fb.Obj[0]!.Buffer;
        DmaBufVmap map;
        int ret = 0;

        try
        {
            map = buf.Vmap();
        }
        catch (DmaBufException e)
        {
            return -e.Errno;
        }

        try
        {
            buf.BeginCpuAccess(DmaDataDirection.FromDevice);
        }
        catch (DmaBufException e)
        {
            ret = -e.Errno;
            buf.Vunmap(map);
            goto out_;
        }

        map.GetSpan(fb.Offset0, Math.Min(dst.Length, clip.Width * clip.Height)).CopyTo(dst);

        buf.EndCpuAccess(DmaDataDirection.FromDevice);

    out_:
        buf.Vunmap(map); // expect: DMA0012
        return ret;
    }
}
