// Kernel: drivers/gpu/drm/drm_gem_framebuffer_helper.c, drm_gem_fb_vmap(), v5.15
// Vmaps every plane's object into map[]; a failed vmap vunmaps the planes mapped so far, in reverse. Correct: silent
// (the vmaps are handed to the caller through map[], which drm_gem_fb_vunmap() takes back).
using DmaBuf;

namespace KernelVmap.GemFbVmap;

internal static class GemFb
{
    public static int Vmap(Framebuffer fb, DmaBufVmap[] map)
    {
        int i;
        int ret = 0;
        for (i = 0; i < fb.NumPlanes; ++i)
        {
            GemObject? obj = fb.Obj[i];
            if (obj == null)
            {
                map[i] = default;
                continue;
            }

            try
            {
                map[i] = obj.Buffer.Vmap();
            }
            catch (DmaBufException e)
            {
                ret = -e.Errno;
                goto err_drm_gem_vunmap;
            }
        }

        return 0;

    err_drm_gem_vunmap:
        while (i > 0)
        {
            --i;
            GemObject? obj = fb.Obj[i];
            if (obj == null)
                continue;
            obj.Buffer.Vunmap(map[i]);
        }

        return ret;
    }
}
