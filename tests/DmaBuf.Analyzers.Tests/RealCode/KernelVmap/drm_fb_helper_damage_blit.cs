// Kernel: drivers/gpu/drm/drm_fb_helper.c, drm_fb_helper_damage_blit(), v5.11 (a client buffer backed by a dma-buf)
// Under the helper's lock, vmaps the client buffer (failure skips to out), copies the damaged lines from the shadow
// buffer into it, and vunmaps. Correct for DMA0012: silent there. Deliberately silent for DMA0007: the copy writes the
// vmap's bytes with no CPU access begun in this function, but the buffer comes from its caller (fbHelper.Buffer), who
// may have begun it; the function has no caller here to tell (fbdev emulation never brackets it, which a caller in
// the compilation would show).
using System;
using DmaBuf;

namespace KernelVmap.FbHelperDamageBlit;

internal sealed class FbHelper
{
    public FbHelper(DmaBuffer buffer, byte[] shadow)
    {
        Buffer = buffer;
        Shadow = shadow;
    }

    public object Lock { get; } = new();

    public DmaBuffer Buffer { get; }

    public byte[] Shadow { get; }

    public int Pitch { get; init; } = 4096;
}

internal static class DrmFbHelper
{
    public static int DamageBlit(FbHelper fbHelper, Rect clip)
    {
        DmaBuffer buffer = fbHelper.Buffer;
        DmaBufVmap map;
        int ret = 0;

        lock (fbHelper.Lock)
        {
            try
            {
                map = buffer.Vmap();
            }
            catch (DmaBufException e)
            {
                ret = -e.Errno;
                goto out_;
            }

            for (int y = clip.Y1; y < clip.Y2; y++)
            {
                long offset = ((long)y * fbHelper.Pitch) + (clip.X1 * 4);
                fbHelper.Shadow.AsSpan((int)offset, clip.Width * 4).CopyTo(map.GetSpan(offset, clip.Width * 4));
            }

            buffer.Vunmap(map);
        out_:
            ;
        }

        return ret;
    }
}
