// Kernel: drivers/gpu/drm/gud/gud_pipe.c, gud_prep_flush(), v5.13 (imported framebuffer)
// Vmaps the framebuffer, begins whole-buffer access for reading, converts the damaged lines into the transfer buffer
// (retrying without compression when LZ4 fails), then ends the access and vunmaps; a failed begin goes to vunmap, a
// failed conversion to end_cpu_access. Correct: silent.
using System;
using DmaBuf;

namespace KernelVmap.GudPrepFlush;

internal sealed class GudDevice
{
    public byte[] BulkBuf { get; } = new byte[1 << 16];

    public int BulkLen => BulkBuf.Length;

    public bool Compression { get; set; }
}

internal static class GudPipe
{
    public static int PrepFlush(GudDevice gdrm, Framebuffer fb, Rect rect, bool convertToR1)
    {
        GemObject obj = fb.Obj[0]!;
        DmaBuffer buf = obj.Buffer;
        int pitch = rect.Width * 4;
        int len = pitch * rect.Height;
        int ret = 0;
        bool compression = gdrm.Compression;
        DmaBufVmap map;

        if (len > gdrm.BulkLen)
            return E.E2BIG;

        try
        {
            map = buf.Vmap();
        }
        catch (DmaBufException e)
        {
            return -e.Errno;
        }

        try
        {
            buf.BeginCpuAccess(DmaDataDirection.FromDevice);
        }
        catch (DmaBufException e)
        {
            ret = -e.Errno;
            goto vunmap;
        }

    retry:
        if (convertToR1)
        {
            len = len / 8;
            if (len == 0)
            {
                ret = E.ENOMEM;
                goto end_cpu_access;
            }
        }

        for (int y = rect.Y1; y < rect.Y2; y++)
            map.GetSpan(fb.Offset0 + ((long)y * fb.Pitch) + (rect.X1 * 4), pitch).CopyTo(gdrm.BulkBuf.AsSpan((y - rect.Y1) * pitch));

        if (compression)
        {
            int complen = len - 1;
            if (complen <= 0)
            {
                compression = false;
                goto retry;
            }
        }

    end_cpu_access:
        buf.EndCpuAccess(DmaDataDirection.FromDevice);
    vunmap:
        buf.Vunmap(map);

        return ret;
    }
}
