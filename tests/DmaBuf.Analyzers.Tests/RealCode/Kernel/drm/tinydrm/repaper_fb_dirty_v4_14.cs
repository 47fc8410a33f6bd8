// Kernel: drivers/gpu/drm/tinydrm/repaper.c, repaper_fb_dirty(), v4.14
// The e-paper panel's dirty handler: under tdev->dirty_lock it bails out (goto out_unlock) when the panel is off or
// the framebuffer is not the one scanned out, allocates a grey buffer, and converts the CMA framebuffer into it. When
// the framebuffer's GEM object is an imported dma-buf (cma_obj->base.import_attach != NULL) the conversion is
// bracketed by dma_buf_begin_cpu_access()/dma_buf_end_cpu_access() on import_attach->dmabuf, each under its own
// `if (import_attach)`, and a failing begin jumps to out_unlock with nothing begun. Then the frame is pushed to the
// panel (which sleeps; no atomic mapping is involved). out_unlock: unlocks, logs a failure, frees the buffer.
// v4.14's begin/end take only a direction: ported as (0, obj->size). The CPU reads go through cma_obj->vaddr (the
// kernel mapping made at import), a byte array here. end_cpu_access cannot fail in the runtime, so the kernel's
// `if (ret) goto out_unlock;` after it is kept as a comment. Correct: silent.
using System;
using DmaBuf;

namespace Kernel.Drm.Tinydrm.Repaper414;

internal sealed class DrmGemObject
{
    public DrmGemObject(long size, DmaBufAttachment? importAttach)
    {
        Size = size;
        ImportAttach = importAttach;
    }

    public long Size { get; }

    public DmaBufAttachment? ImportAttach { get; }
}

internal sealed class DrmGemCmaObject
{
    public DrmGemCmaObject(DrmGemObject @base, byte[] vaddr)
    {
        Base = @base;
        Vaddr = vaddr;
    }

    public DrmGemObject Base { get; }

    public byte[] Vaddr { get; }
}

internal sealed class DrmFramebuffer
{
    public DrmFramebuffer(DrmGemCmaObject obj, int width, int height)
    {
        Obj = obj;
        Width = width;
        Height = height;
    }

    public DrmGemCmaObject Obj { get; }

    public int Width { get; }

    public int Height { get; }
}

internal sealed class RepaperEpd
{
    public bool Enabled;
    public bool Partial;
    public bool Cleared;
    public uint FactoredStageTime;
    public DrmFramebuffer? ScanoutFb;
    public byte[] CurrentFrame = Array.Empty<byte>();
    public KMutex DirtyLock { get; } = new KMutex();
}

internal static class Repaper
{
    private static void GetTemperature(RepaperEpd epd)
    {
    }

    private static void Xrgb8888ToGray8(byte[] dst, byte[] vaddr, DrmFramebuffer fb)
    {
        for (int i = 0; i < dst.Length && i * 4 < vaddr.Length; i++)
            dst[i] = vaddr[i * 4];
    }

    private static void Gray8ToMonoReversed(byte[] buf, int width, int height)
    {
    }

    // repaper_frame_data_repeat()/repaper_frame_fixed_repeat(): SPI transfers with the stage time; sleeps.
    [MightSleep]
    private static void FrameDataRepeat(RepaperEpd epd, byte[] image, byte[] mask) => System.Threading.Thread.Sleep(1);

    public static int FbDirty(RepaperEpd epd, DrmFramebuffer fb)
    {
        DrmGemCmaObject cmaObj = fb.Obj;
        DmaBufAttachment? importAttach = cmaObj.Base.ImportAttach;
        byte[]? buf = null;
        int ret = 0;

        epd.DirtyLock.Lock();

        if (!epd.Enabled)
            goto out_unlock;

        /* fbdev can flush even when we're not interested */
        if (epd.ScanoutFb != fb)
            goto out_unlock;

        GetTemperature(epd);

        Log.Debug("Flushing st={0}ms", epd.FactoredStageTime);

        buf = new byte[fb.Width * fb.Height]; // kmalloc(fb->width * fb->height, GFP_KERNEL)
        if (buf.Length == 0)
        {
            ret = E.ENOMEM;
            goto out_unlock;
        }

        if (importAttach != null)
        {
            try
            {
                importAttach.Buffer.BeginCpuAccess(0, cmaObj.Base.Size, DmaDataDirection.FromDevice);
            }
            catch (DmaBufException e)
            {
                ret = -e.Errno;
            }

            if (ret != 0)
                goto out_unlock;
        }

        Xrgb8888ToGray8(buf, cmaObj.Vaddr, fb);

        if (importAttach != null)
        {
            importAttach.Buffer.EndCpuAccess(0, cmaObj.Base.Size, DmaDataDirection.FromDevice);
            // if (ret) goto out_unlock;
        }

        Gray8ToMonoReversed(buf, fb.Width, fb.Height);

        if (epd.Partial)
        {
            FrameDataRepeat(epd, buf, epd.CurrentFrame);
        }
        else if (epd.Cleared)
        {
            FrameDataRepeat(epd, epd.CurrentFrame, buf);
            FrameDataRepeat(epd, buf, epd.CurrentFrame);
            epd.Partial = true;
        }
        else
        {
            FrameDataRepeat(epd, buf, buf);
            epd.Cleared = true;
            epd.Partial = true;
        }

        buf.CopyTo(epd.CurrentFrame, 0);

    out_unlock:
        epd.DirtyLock.Unlock();

        if (ret != 0)
            Log.Error("Failed to update display ({0})", ret);
        // kfree(buf);

        return ret;
    }
}
