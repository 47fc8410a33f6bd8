// Kernel: drivers/gpu/drm/udl/udl_fb.c, udl_user_framebuffer_dirty(), v3.10 (seeded)
// A copy of the v3.10 dirty ioctl (see udl_user_framebuffer_dirty_v3_10.cs) with ONE seeded bug: the end of CPU
// access names DMA_TO_DEVICE where the begin named DMA_FROM_DEVICE (a porter confusing the direction of the scan-out
// read). The end does not match the begun access, so it is DMA0002 at the end. A mismatched end is taken to end the
// access it was meant for (docs/rules/DMA0002.md), so the same mistake is not reported a second time as DMA0001.
using DmaBuf;

namespace Kernel.Udl.Dirty310Seeded;

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
            ufb.Obj.ImportAttach.Buffer.EndCpuAccess(0, ufb.Obj.Size, DmaDataDirection.ToDevice); // expect: DMA0002
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
