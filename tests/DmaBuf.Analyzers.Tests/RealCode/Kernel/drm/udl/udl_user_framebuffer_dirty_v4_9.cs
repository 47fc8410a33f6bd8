// Kernel: drivers/gpu/drm/udl/udl_fb.c, udl_user_framebuffer_dirty(), v4.9 (Rashed97/android_kernel_nvidia_kernel_linux-4.4@2a3bb693, with the v4.6 CPU-access API)
// The same ioctl after the v4.6 CPU-access change: it now runs under drm_modeset_lock_all(), the inactive case and a
// failed begin both `goto unlock`, and `ret = dma_buf_end_cpu_access(...)` overwrites ret after the clip loop.
// The whole-buffer begin/end of v4.6 is ported as BeginCpuAccess/EndCpuAccess over 0..obj.Size. The unlock label is
// reached from three places (inactive framebuffer, failed begin, fall-through). Correct: silent.
using DmaBuf;

namespace Kernel.Udl.Dirty49;

internal sealed class ClipRect
{
    public int X1;
    public int Y1;
    public int X2;
    public int Y2;
}

internal sealed class DrmDevice
{
    /// <summary>drm_modeset_lock_all()/drm_modeset_unlock_all().</summary>
    public KMutex ModesetLock { get; } = new KMutex();
}

internal sealed class UdlFramebuffer
{
    public UdlFramebuffer(DrmDevice dev, GemObject obj)
    {
        Dev = dev;
        Obj = obj;
    }

    public DrmDevice Dev { get; }

    public GemObject Obj { get; }

    public bool Active16 { get; set; }
}

internal static class UdlFb
{
    public static int UserFramebufferDirty(UdlFramebuffer ufb, ClipRect[] clips, int numClips)
    {
        int i;
        int ret = 0;

        ufb.Dev.ModesetLock.Lock();

        if (!ufb.Active16)
            goto unlock;

        if (ufb.Obj.ImportAttach != null)
        {
            try
            {
                ufb.Obj.ImportAttach.Buffer.BeginCpuAccess(0, ufb.Obj.Size, DmaDataDirection.FromDevice);
            }
            catch (DmaBufException e)
            {
                ret = -e.Errno;
                goto unlock;
            }
        }

        for (i = 0; i < numClips; i++)
        {
            ret = HandleDamage(ufb, clips[i].X1, clips[i].Y1, clips[i].X2 - clips[i].X1, clips[i].Y2 - clips[i].Y1);
            if (ret != 0)
                break;
        }

        if (ufb.Obj.ImportAttach != null)
        {
            ufb.Obj.ImportAttach.Buffer.EndCpuAccess(0, ufb.Obj.Size, DmaDataDirection.FromDevice);
            ret = 0; // ret = dma_buf_end_cpu_access(...): the end returned 0; the runtime's end reports failure by throwing
        }

    unlock:
        ufb.Dev.ModesetLock.Unlock();

        return ret;
    }

    // udl_handle_damage(): renders from the object's vmapping; no dma-buf call.
    private static int HandleDamage(UdlFramebuffer fb, int x, int y, int width, int height)
    {
        if (!fb.Active16)
            return 0;

        return width <= 0 || height < 0 || x < 0 || y < 0 ? E.EINVAL : 0;
    }
}
