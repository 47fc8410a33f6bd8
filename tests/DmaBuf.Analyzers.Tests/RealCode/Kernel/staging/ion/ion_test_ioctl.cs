// Kernel: drivers/staging/android/ion/ion_test.c, ion_test_ioctl(), v3.18 (unicorn-soc-425/kernel-3.18-U5-@88393703)
// The ION test driver's ioctl with the two tests it dispatches to, as in the file:
// - ION_IOC_TEST_SET_FD takes a reference with dma_buf_get() (or none for fd < 0), puts the one the file held and
//   keeps the new one in the file's private data (handed on: stored in a field).
// - ION_IOC_TEST_DMA_MAPPING -> ion_handle_test_dma(): attach, map, copy through the table's pages (vmap of each sg
//   page: memory of the table, not a dma-buf kmap), then err: unmaps and detaches. A failed map returns without
//   detaching (an attachment leak of the original, which no rule of this project covers).
// - ION_IOC_TEST_KERNEL_MAPPING -> ion_handle_test_kernel(): begins and ends CPU access itself around its kmap loop,
//   so the caller, which begins nothing on the field's buffer, owes it nothing (no DMA0007 at the call).
// The begin failure in ion_handle_test_kernel is caught and returned directly here. Correct: silent.
using System;
using DmaBuf;

namespace Kernel.Ion.TestIoctl;

internal sealed class IonTestData
{
    public DmaBuffer? DmaBuf;

    public Device Dev = new Device("ion-test");
}

internal sealed class IonTestRwData
{
    public byte[] Ptr = Array.Empty<byte>();

    public long Offset;

    public long Size;

    public bool Write;
}

internal sealed class IonTestFile
{
    public const uint IonIocTestSetFd = 0x4900;
    public const uint IonIocTestDmaMapping = 0x4901;
    public const uint IonIocTestKernelMapping = 0x4902;
    private const uint IocRead = 0x80000000;

    private readonly IonTestData _testData = new IonTestData();

    public long Ioctl(uint cmd, long arg, IonTestRwData data)
    {
        int ret = 0;

        switch (cmd)
        {
            case IonIocTestSetFd:
            {
                DmaBuffer? dmaBuf = null;
                int fd = (int)arg;

                if (fd >= 0)
                {
                    try
                    {
                        dmaBuf = DmaBuffer.Get((int)arg);
                    }
                    catch (DmaBufException e)
                    {
                        return -e.Errno;
                    }
                }

                if (_testData.DmaBuf != null)
                    _testData.DmaBuf.Put();
                _testData.DmaBuf = dmaBuf;
                break;
            }

            case IonIocTestDmaMapping:
            {
                ret = HandleTestDma(_testData.Dev, _testData.DmaBuf!, data.Ptr, data.Offset, data.Size, data.Write);
                break;
            }

            case IonIocTestKernelMapping:
            {
                ret = HandleTestKernel(_testData.DmaBuf!, data.Ptr, data.Offset, data.Size, data.Write);
                break;
            }

            default:
                return E.ENOTTY;
        }

        if ((cmd & IocRead) != 0)
        {
            if (Uaccess.CopyToUser(data.Ptr, 0, Span<byte>.Empty) != 0)
                return E.EFAULT;
        }

        return ret;
    }

    private static int HandleTestDma(Device dev, DmaBuffer dmaBuf, byte[] ptr, long offset, long size, bool write)
    {
        int ret = 0;
        DmaBufAttachment attach;
        ScatterGatherTable table;
        DmaDataDirection dir = write ? DmaDataDirection.FromDevice : DmaDataDirection.ToDevice;
        long offsetPage;
        long userOffset = 0;

        try
        {
            attach = dmaBuf.Attach(dev);
        }
        catch (DmaBufException e)
        {
            return -e.Errno;
        }

        try
        {
            table = dmaBuf.MapAttachment(attach, dir);
        }
        catch (DmaBufException e)
        {
            return -e.Errno;
        }

        offsetPage = offset / DmaBuffer.PageSize;
        offset %= DmaBuffer.PageSize;

        for (long pageIndex = offsetPage; pageIndex < table.TotalLength / DmaBuffer.PageSize; pageIndex++)
        {
            byte[]? vaddr = SgPageVmap(table, pageIndex);
            long toCopy = DmaBuffer.PageSize - offset;

            toCopy = Math.Min(toCopy, size);
            if (vaddr == null)
            {
                ret = E.ENOMEM;
                goto err;
            }

            if (write)
                ret = Uaccess.CopyFromUser(vaddr.AsSpan((int)offset, (int)toCopy), ptr, userOffset);
            else
                ret = Uaccess.CopyToUser(ptr, userOffset, vaddr.AsSpan((int)offset, (int)toCopy));

            // vunmap(vaddr);
            if (ret != 0)
            {
                ret = E.EFAULT;
                goto err;
            }

            size -= toCopy;
            if (size == 0)
                break;
            userOffset += toCopy;
            offset = 0;
        }

    err:
        dmaBuf.UnmapAttachment(attach, table);
        dmaBuf.Detach(attach);
        return ret;
    }

    // vmap(&page, 1, VM_MAP, pgprot) of one page of the sg table: the device mapping's own pages.
    private static byte[]? SgPageVmap(ScatterGatherTable table, long pageIndex) =>
        pageIndex * DmaBuffer.PageSize < table.TotalLength ? new byte[DmaBuffer.PageSize] : null;

    private static int HandleTestKernel(DmaBuffer dmaBuf, byte[] ptr, long offset, long size, bool write)
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
            return -e.Errno;
        }

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
