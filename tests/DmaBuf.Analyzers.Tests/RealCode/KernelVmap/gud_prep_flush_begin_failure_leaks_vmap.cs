// Kernel: drivers/gpu/drm/gud/gud_pipe.c, gud_prep_flush(), v5.13 (imported framebuffer), with a seeded bug
// Buggy (constructed from the v5.13 function, not a kernel commit): a failed begin returns at once instead of going to
// vunmap, so that path leaves the buffer vmapped: DMA0012 at that return. Everything else as the kernel has it.
using System;
using DmaBuf;

namespace KernelVmap.GudPrepFlushEarlyReturn;

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
            return -e.Errno; // expect: DMA0012
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
        buf.Vunmap(map);

        return ret;
    }
}
