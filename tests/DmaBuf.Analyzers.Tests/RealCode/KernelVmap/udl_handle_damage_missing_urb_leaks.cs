// Kernel: drivers/gpu/drm/udl/udl_modeset.c, udl_handle_damage(), v5.8 (imported framebuffer), with a seeded bug
// Buggy (constructed from the v5.8 function, not a kernel commit): a missing URB returns -ENOMEM at once instead of
// going to out_dma_buf_end_cpu_access, so that path leaves the access begun and the buffer vmapped: DMA0001 and
// DMA0012 at that return.
using System;
using DmaBuf;

namespace KernelVmap.UdlHandleDamageNoUrb;

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
            return E.ENOMEM; // expect: DMA0001, DMA0012

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
