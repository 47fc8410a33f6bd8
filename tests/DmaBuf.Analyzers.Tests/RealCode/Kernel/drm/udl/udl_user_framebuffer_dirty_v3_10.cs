// Kernel: drivers/gpu/drm/udl/udl_fb.c, udl_user_framebuffer_dirty(), v3.10
// The DisplayLink dirty-framebuffer ioctl. For a framebuffer whose GEM object was imported from a dma-buf it begins
// CPU access to the whole object (0..size, DMA_FROM_DEVICE), renders every clip rectangle with udl_handle_damage()
// (which reads the object's vmapping, not a kmap), and ends the access under a second, identical test of
// import_attach. A failed begin returns its error before anything is begun; a failing clip breaks out of the loop
// and still reaches the end. Ported with the ret-variable shape: the catch stores the errno and `if (ret)` returns.
// Correct: silent.
using DmaBuf;

namespace Kernel.Udl.Dirty310;

internal sealed class ClipRect
{
    public int X1;
    public int Y1;
    public int X2;
    public int Y2;
}

internal sealed class UdlFramebuffer
{
    public UdlFramebuffer(GemObject obj) => Obj = obj;

    public GemObject Obj { get; }

    public bool Active16 { get; set; }

    public int Width { get; set; }

    public int Height { get; set; }
}

internal static class UdlFb
{
    public static int UserFramebufferDirty(UdlFramebuffer ufb, ClipRect[] clips, int numClips)
    {
        int i;
        int ret = 0;

        if (!ufb.Active16)
            return 0;

        if (ufb.Obj.ImportAttach != null)
        {
            try
            {
                ufb.Obj.ImportAttach.Buffer.BeginCpuAccess(0, ufb.Obj.Size, DmaDataDirection.FromDevice);
            }
            catch (DmaBufException e)
            {
                ret = -e.Errno;
            }

            if (ret != 0)
                return ret;
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
        }

        return ret;
    }

    // udl_handle_damage(): checks the rectangle and renders it line by line from the object's vmapping into URBs.
    // No dma-buf call is made here.
    private static int HandleDamage(UdlFramebuffer fb, int x, int y, int width, int height)
    {
        if (!fb.Active16)
            return 0;

        if (width <= 0 || x + width > fb.Width || y + height > fb.Height)
            return E.EINVAL;

        return 0;
    }
}
