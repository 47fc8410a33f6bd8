// Kernel: drivers/gpu/drm/drm_gem_framebuffer_helper.c, drm_gem_fb_vunmap(), v5.15
// Vunmaps, in reverse, the planes drm_gem_fb_vmap() mapped, skipping missing objects and null maps. Correct: silent
// (a helper that vunmaps the maps its caller hands it).
using DmaBuf;

namespace KernelVmap.GemFbVunmap;

internal static class GemFb
{
    public static void Vunmap(Framebuffer fb, DmaBufVmap[] map)
    {
        int i = fb.NumPlanes;
        while (i > 0)
        {
            --i;
            GemObject? obj = fb.Obj[i];
            if (obj == null)
                continue;
            if (map[i].Buffer == null)
                continue;
            obj.Buffer.Vunmap(map[i]);
        }
    }
}
