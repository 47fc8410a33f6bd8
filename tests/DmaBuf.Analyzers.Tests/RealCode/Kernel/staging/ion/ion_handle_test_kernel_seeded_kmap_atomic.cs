// Kernel: drivers/staging/android/ion/ion_test.c, ion_handle_test_kernel(), v3.18 (seeded)
// A copy of the v3.18 kernel-mapping test (see ion_handle_test_kernel.cs) with ONE seeded bug: the page is mapped
// with dma_buf_kmap_atomic()/dma_buf_kunmap_atomic() (a porter avoiding kmap's sleep), but copy_{from,to}_user() may
// fault the user page in and sleep while the atomic mapping is held (kernel code must use the _inatomic copies).
// Each copy call is DMA0005. The NULL check of the mapping is kept as the original has it for kmap.
using System;
using DmaBuf;

namespace Kernel.Ion.TestKernelSeededAtomic;

internal static class IonTest
{
    public static int HandleTestKernel(DmaBuffer dmaBuf, byte[] ptr, long offset, long size, bool write)
    {
        int ret = 0;
        long pageOffset = offset / DmaBuffer.PageSize;
        long copyOffset = offset % DmaBuffer.PageSize;
        long copySize = size;
        long userOffset = 0;
        DmaDataDirection dir = write ? DmaDataDirection.FromDevice : DmaDataDirection.ToDevice;

        if (offset > dmaBuf.Size || size > dmaBuf.Size - offset)
            return E.EINVAL;

        try
        {
            dmaBuf.BeginCpuAccess(offset, size, dir);
        }
        catch (DmaBufException e)
        {
            ret = -e.Errno;
        }

        if (ret != 0)
            return ret;

        while (copySize > 0)
        {
            long toCopy;
            DmaBufPage? vaddr;
            try
            {
                vaddr = dmaBuf.KmapAtomic(pageOffset);
            }
            catch (DmaBufException)
            {
                vaddr = null;
            }

            if (vaddr == null)
                goto err;

            toCopy = Math.Min(DmaBuffer.PageSize - copyOffset, copySize);

            if (write)
                ret = Uaccess.CopyFromUser(vaddr.Value.Span.Slice((int)copyOffset, (int)toCopy), ptr, userOffset); // expect: DMA0005
            else
                ret = Uaccess.CopyToUser(ptr, userOffset, vaddr.Value.Span.Slice((int)copyOffset, (int)toCopy)); // expect: DMA0005

            dmaBuf.KunmapAtomic(pageOffset, vaddr.Value);
            if (ret != 0)
            {
                ret = E.EFAULT;
                goto err;
            }

            copySize -= toCopy;
            userOffset += toCopy;
            pageOffset++;
            copyOffset = 0;
        }

    err:
        dmaBuf.EndCpuAccess(offset, size, dir);
        return ret;
    }
}
