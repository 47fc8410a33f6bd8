// Kernel: drivers/gpu/drm/drm_gem_framebuffer_helper.c, drm_gem_fb_end_cpu_access(), v5.15
// Ends the whole-buffer CPU access drm_gem_fb_begin_cpu_access() left begun on every plane (the Close half of the
// pair, so [ClosesCpuAccess]); a failing end is only logged. Correct: silent.
using DmaBuf;

namespace KernelVmap.GemFbEnd;

internal static class GemFb
{
    [ClosesCpuAccess]
    public static void EndCpuAccess(Framebuffer fb, DmaDataDirection dir)
    {
        int numPlanes = fb.NumPlanes;
        while (numPlanes > 0)
        {
            --numPlanes;
            GemObject? obj = fb.Obj[numPlanes];
            if (obj == null)
                continue;
            try
            {
                obj.Buffer.EndCpuAccess(dir);
            }
            catch (DmaBufException e)
            {
                Log.Error("dma_buf_end_cpu_access({0}, {1}) failed: {2}", numPlanes, dir, -e.Errno);
            }
        }
    }
}
