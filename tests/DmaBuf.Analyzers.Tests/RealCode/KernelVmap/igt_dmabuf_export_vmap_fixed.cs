// Kernel: drivers/gpu/drm/i915/gem/selftests/i915_gem_dmabuf.c, igt_dmabuf_export_vmap(), v5.11 with the fix of the
// patch "fix refcount leak" (Xin Xiong et al.): the not-zero branch goes to the new out_dma_map label, so the buffer is
// vunmapped on every path. The test still reads and writes the vmap's bytes with no CPU access begun, as the kernel
// test does: DMA0007 at both accesses; nothing else.
using System;
using DmaBuf;

namespace KernelVmap.IgtDmabufExportVmapFixed;

internal static class I915GemDmabufSelftests
{
    public static int ExportVmap(DmaBufExporter shmem)
    {
        DmaBuffer dmabuf;
        DmaBufVmap map;
        int err;

        try
        {
            dmabuf = DmaBuffer.Export(shmem, DmaBuffer.PageSize);
        }
        catch (DmaBufException e)
        {
            Log.Error("i915_gem_prime_export failed with err={0}", -e.Errno);
            return -e.Errno;
        }

        try
        {
            map = dmabuf.Vmap();
        }
        catch (DmaBufException)
        {
            Log.Error("dma_buf_vmap failed");
            err = E.ENOMEM;
            goto out_;
        }

        if (map.GetSpan(0, (int)dmabuf.Size).IndexOfAnyExcept((byte)0) >= 0) // expect: DMA0007
        {
            Log.Error("Exported object not initialiased to zero!");
            err = E.EINVAL;
            goto out_dma_map;
        }

        map.GetSpan(0, (int)dmabuf.Size).Fill(0xc5); // expect: DMA0007

        err = 0;

    out_dma_map:
        dmabuf.Vunmap(map);
    out_:
        dmabuf.Put();
        return err;
    }
}
