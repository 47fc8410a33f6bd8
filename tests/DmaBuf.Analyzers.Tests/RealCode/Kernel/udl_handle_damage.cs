// Kernel: drivers/gpu/drm/udl/udl_fb.c, udl_handle_damage(), v3.10
// The CPU access is begun and ended only for an imported object, under two separate tests of import_attach;
// a failed begin returns before anything is mapped. Correct: silent.
using DmaBuf;

namespace Kernel.Udl;

internal sealed class UdlFramebuffer
{
    public UdlFramebuffer(GemObject obj) => Obj = obj;

    public GemObject Obj { get; }

    public bool Active16 { get; set; }
}

internal static class UdlFb
{
    public static int HandleDamage(UdlFramebuffer fb, int x, int y, int width, int height)
    {
        if (!fb.Active16)
            return 0;

        if (fb.Obj.ImportAttach != null)
        {
            try
            {
                fb.Obj.ImportAttach.Buffer.BeginCpuAccess(0, fb.Obj.Size, DmaDataDirection.FromDevice);
            }
            catch (DmaBufException e)
            {
                return -e.Errno;
            }
        }

        for (int i = y; i < y + height; i++)
        {
            // udl_render_hline: the lines are read through the object's vmapping, not through kmap.
            if (i < 0)
                break;
        }

        if (fb.Obj.ImportAttach != null)
        {
            fb.Obj.ImportAttach.Buffer.EndCpuAccess(0, fb.Obj.Size, DmaDataDirection.FromDevice);
        }

        return 0;
    }
}
