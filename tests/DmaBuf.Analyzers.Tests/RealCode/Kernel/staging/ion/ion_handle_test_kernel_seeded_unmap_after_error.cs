// Kernel: drivers/staging/android/ion/ion_test.c, ion_handle_test_kernel(), v3.18 (seeded)
// A copy of the v3.18 kernel-mapping test (see ion_handle_test_kernel.cs) with ONE seeded bug: the fault check is
// moved above dma_buf_kunmap(), so a failed copy_{from,to}_user() jumps to err with the page still mapped. The way out
// that path takes is the return after err: (DMA0003 there). The access itself is still ended at err.
using System;
using DmaBuf;

namespace Kernel.Ion.TestKernelSeededUnmap;

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
                vaddr = dmaBuf.Kmap(pageOffset);
            }
            catch (DmaBufException)
            {
                vaddr = null;
            }

            if (vaddr == null)
                goto err;

            toCopy = Math.Min(DmaBuffer.PageSize - copyOffset, copySize);

            if (write)
                ret = Uaccess.CopyFromUser(vaddr.Value.Span.Slice((int)copyOffset, (int)toCopy), ptr, userOffset);
            else
                ret = Uaccess.CopyToUser(ptr, userOffset, vaddr.Value.Span.Slice((int)copyOffset, (int)toCopy));

            if (ret != 0)
            {
                ret = E.EFAULT;
                goto err;
            }

            dmaBuf.Kunmap(pageOffset, vaddr.Value);

            copySize -= toCopy;
            userOffset += toCopy;
            pageOffset++;
            copyOffset = 0;
        }

    err:
        dmaBuf.EndCpuAccess(offset, size, dir);
        return ret; // expect: DMA0003
    }
}
