// Kernel: drivers/media/platform/msm/camera/cam_req_mgr/cam_mem_mgr.c, cam_mem_util_map_cpu_va(), arter97/caf_msm-4.14@035a9fe41941 (CAF msm-4.14)
// The Qualcomm camera memory manager's kernel mapping of an ION buffer (for CAM_MEM_FLAG_KMD_ACCESS): begin CPU
// access DMA_BIDIRECTIONAL (return its error), then dma_buf_kmap() every page, relying on ION's virtually contiguous
// allocation to use the first page's address for the whole buffer; on a failed kmap unmap the pages mapped so far,
// end the access and return -ENOSPC. On success the pages stay mapped and the access stays begun:
// cam_mem_util_unmap_cpu_va() (ported with it) kunmaps every page and ends the access when the buffer is released.
// The C code keeps only the first address and recomputes the others at kunmap; the runtime's kunmap takes the
// mapping, so the port keeps every page in the caller's array (the pages escape to it).
// Reported by the rules, though the vendor means it (its comment: begin and end "need to be called in pair"): the
// function is the Open half of an Open/Close pair that is not marked as one, and it ends the access on one way out
// (the kmap failure) but leaves it begun on the other, so the success return gets DMA0001. Marking it
// [LeavesCpuAccessOpen] (and the unmap [ClosesCpuAccess]) is the rules' way of saying so; the port keeps the code
// as the vendor wrote it. cam_mem_util_unmap_cpu_va() ends an access begun by its caller: silent (no caller here).
using System;
using DmaBuf;

namespace Kernel.Round3.MsmCamera.MapCpuVa;

internal static class CamMemMgr
{
    private const int ENOSPC = -28;

    // vaddr: the caller's array of pages (uintptr_t *vaddr in C, the first page's address); len: size_t *len.
    public static int MapCpuVa(DmaBuffer dmabuf, DmaBufPage[] vaddr, out long len)
    {
        int i, j, rc = 0;
        DmaBufPage? addr;

        len = 0;

        /*
         * dma_buf_begin_cpu_access() and dma_buf_end_cpu_access()
         * need to be called in pair to avoid stability issue.
         */
        try
        {
            dmabuf.BeginCpuAccess(DmaDataDirection.Bidirectional);
        }
        catch (DmaBufException e)
        {
            rc = -e.Errno;
        }

        if (rc != 0)
        {
            Log.Error("dma begin access failed rc={0}", rc);
            return rc;
        }

        /*
         * Code could be simplified if ION support of dma_buf_vmap is
         * available. This workaround takes the avandaage that ion_alloc
         * returns a virtually contiguous memory region, so we just need
         * to _kmap each individual page and then only use the virtual
         * address returned from the first call to _kmap.
         */
        for (i = 0; i < dmabuf.PageCount; i++) // PAGE_ALIGN(dmabuf->size) / PAGE_SIZE
        {
            try
            {
                addr = dmabuf.Kmap(i);
            }
            catch (DmaBufException)
            {
                addr = null;
            }

            if (addr == null) // IS_ERR_OR_NULL(addr)
            {
                Log.Error("kernel map fail");
                for (j = 0; j < i; j++)
                    dmabuf.Kunmap(j, vaddr[j]);
                len = 0;
                rc = ENOSPC;
                goto fail;
            }

            vaddr[i] = addr.Value;
        }

        len = dmabuf.Size;

        return 0; // expect: DMA0001

    fail:
        dmabuf.EndCpuAccess(DmaDataDirection.Bidirectional);
        return rc;
    }

    // cam_mem_util_unmap_cpu_va()
    public static int UnmapCpuVa(DmaBuffer? dmabuf, DmaBufPage[]? vaddr)
    {
        int i, rc = 0;
        long pageNum;

        if (dmabuf == null || vaddr == null)
        {
            Log.Error("Invalid input args {0} {1}", dmabuf, vaddr);
            return E.EINVAL;
        }

        pageNum = dmabuf.PageCount;

        for (i = 0; i < pageNum; i++)
            dmabuf.Kunmap(i, vaddr[i]);

        /*
         * dma_buf_begin_cpu_access() and
         * dma_buf_end_cpu_access() need to be called in pair
         * to avoid stability issue.
         */
        try
        {
            dmabuf.EndCpuAccess(DmaDataDirection.Bidirectional);
        }
        catch (DmaBufException e)
        {
            rc = -e.Errno;
        }

        if (rc != 0)
        {
            Log.Error("Failed in end cpu access, dmabuf={0}", dmabuf);
            return rc;
        }

        return rc;
    }
}
