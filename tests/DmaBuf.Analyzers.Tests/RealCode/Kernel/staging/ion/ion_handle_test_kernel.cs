// Kernel: drivers/staging/android/ion/ion_test.c, ion_handle_test_kernel(), v3.18 (unicorn-soc-425/kernel-3.18-U5-@88393703)
// The ION test driver's kernel-mapping test: after checking the range against the buffer it begins CPU access for
// exactly (offset, size) in the direction of the copy, then walks the range page by page: dma_buf_kmap() the page,
// copy_{from,to}_user() the part of it in the range, dma_buf_kunmap(), and on a fault `goto err`. A failed kmap
// (NULL) also jumps to err, with ret still 0 (a functional quirk of the original, kept). err: ends the access with the
// same arguments. The begin's failure is ported with a ret variable: the catch stores the errno, `if (ret)` returns.
// The page numbers (offset >> PAGE_SHIFT onwards) and the range are parameters: the analysis cannot place them, so
// no DMA0006 question arises. No caller in this file: the helper alone. Correct: silent.
using System;
using DmaBuf;

namespace Kernel.Ion.TestKernel;

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

            dmaBuf.Kunmap(pageOffset, vaddr.Value);
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
