// Kernel: drivers/gpu/drm/drm_gem_framebuffer_helper.c, drm_gem_fb_begin_cpu_access(), v5.15, with the
// __drm_gem_fb_end_cpu_access() it unwinds with
// Begins whole-buffer CPU access on every plane's buffer and leaves it begun for its caller (the Open half of a pair,
// so [LeavesCpuAccessOpen]); a missing object or a failed begin ends the planes begun so far. Correct: silent.
using DmaBuf;

namespace KernelVmap.GemFbBegin;

internal static class GemFb
{
    [LeavesCpuAccessOpen]
    public static int BeginCpuAccess(Framebuffer fb, DmaDataDirection dir)
    {
        int i;
        int ret;
        for (i = 0; i < fb.NumPlanes; ++i)
        {
            GemObject? obj = fb.Obj[i];
            if (obj == null)
            {
                ret = E.EINVAL;
                goto err___drm_gem_fb_end_cpu_access;
            }

            try
            {
                obj.Buffer.BeginCpuAccess(dir);
            }
            catch (DmaBufException e)
            {
                ret = -e.Errno;
                goto err___drm_gem_fb_end_cpu_access;
            }
        }

        return 0;

    err___drm_gem_fb_end_cpu_access:
        EndCpuAccessPlanes(fb, dir, i);
        return ret;
    }

    [ClosesCpuAccess]
    private static void EndCpuAccessPlanes(Framebuffer fb, DmaDataDirection dir, int numPlanes)
    {
        while (numPlanes > 0)
        {
            --numPlanes;
            GemObject? obj = fb.Obj[numPlanes];
            if (obj == null)
                continue;
            obj.Buffer.EndCpuAccess(dir);
        }
    }
}
