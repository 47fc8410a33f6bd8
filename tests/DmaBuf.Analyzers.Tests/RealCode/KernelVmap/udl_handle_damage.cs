// Kernel: drivers/gpu/drm/udl/udl_modeset.c, udl_handle_damage(), v5.8 (imported framebuffer)
// Vmaps the framebuffer (a failed vmap is logged and the damage dropped), begins whole-buffer access for reading,
// renders each damaged line into URBs, and ends the access and vunmaps on every way out: a missing URB and a failed
// line go to out_dma_buf_end_cpu_access, a failed begin to out_drm_gem_shmem_vunmap. Correct: silent.
using System;
using DmaBuf;

namespace KernelVmap.UdlHandleDamage;

internal sealed class UdlDevice
{
    public byte[]? GetUrb() => new byte[4096];

    public int RenderHline(Span<byte> line, byte[] urb) => line.Length <= urb.Length ? 0 : E.ENOMEM;
}

internal static class UdlModeset
{
    public static int HandleDamage(UdlDevice dev, Framebuffer fb, Rect clip, int logBpp)
    {
        GemObject obj = fb.Obj[0]!;
        DmaBuffer buf = obj.Buffer;
        DmaBufVmap map;
        int ret;

        try
        {
            map = buf.Vmap();
        }
        catch (DmaBufException)
        {
            Log.Error("failed to vmap fb");
            return 0;
        }

        try
        {
            buf.BeginCpuAccess(DmaDataDirection.FromDevice);
        }
        catch (DmaBufException e)
        {
            ret = -e.Errno;
            goto out_drm_gem_shmem_vunmap;
        }

        byte[]? urb = dev.GetUrb();
        if (urb == null)
        {
            ret = E.ENOMEM;
            goto out_dma_buf_end_cpu_access;
        }

        for (int i = clip.Y1; i < clip.Y2; i++)
        {
            int lineOffset = fb.Pitch * i;
            int byteOffset = lineOffset + (clip.X1 << logBpp);
            int byteWidth = (clip.X2 - clip.X1) << logBpp;
            ret = dev.RenderHline(map.GetSpan(byteOffset, byteWidth), urb);
            if (ret != 0)
                goto out_dma_buf_end_cpu_access;
        }

        ret = 0;

    out_dma_buf_end_cpu_access:
        buf.EndCpuAccess(DmaDataDirection.FromDevice);
    out_drm_gem_shmem_vunmap:
        buf.Vunmap(map);
        return ret;
    }
}
