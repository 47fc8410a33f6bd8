// Kernel: drivers/gpu/drm/i915/gem/selftests/i915_gem_dmabuf.c, igt_dmabuf_export_vmap(), v5.11
// Buggy, as the kernel had it (fixed by the patch that adds the out_dma_map label, see igt_dmabuf_export_vmap_fixed):
// when the exported object is not zero, the test jumps to out past dma_buf_vunmap(), leaving the buffer vmapped
// (the commit message: it "forgets to decrement vmapping_counter"): DMA0012 at the return reached from out. The test
// also reads and writes the vmap's bytes with no CPU access begun: DMA0007 at both accesses.
using System;
using DmaBuf;

namespace KernelVmap.IgtDmabufExportVmap;

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
            goto out_;
        }

        map.GetSpan(0, (int)dmabuf.Size).Fill(0xc5); // expect: DMA0007

        err = 0;
        dmabuf.Vunmap(map);
    out_:
        dmabuf.Put();
        return err; // expect: DMA0012
    }
}
