// Kernel: cvip.c, cvip_alloc_buffer(), AMD CVIP subsystem vendor driver (2019-2021, v5.x: ksys_close; directory in the vendor tree not recorded)
// The x86 side of AMD's CVIP (a vision co-processor) allocates its shared and x86 buffers from ION: ion_alloc()
// returns an fd, dma_buf_get() takes a reference, dma_buf_kmap(dma_buf, 0) maps the first page, and the buffer, the
// fd and the ion_buffer (whose vaddr now holds the mapping) are kept in the device struct; on a kmap failure the
// reference is put (map_err) and the fd closed (dma_err).
// The bug (real, in the vendor driver): the kmap is done with no CPU access begun on the buffer: there is no
// dma_buf_begin_cpu_access() anywhere in the driver, although the buffer is ION_FLAG_CACHED and shared with a device
// ("Before an importer can acces a dma_buf object with the cpu from the kernel context, it needs to notice the
// exporter"). DMA0007 at the Kmap. The buffer has just been taken by this method, so no caller can have begun it.
// The page and the buffer are kept in fields afterwards (no DMA0003/DMA0010). ion_alloc() is a stand-in returning
// the fd of a freshly exported buffer.
using System;
using DmaBuf;

namespace Kernel.Misc.Cvip;

internal sealed class IonBuffer
{
    public DmaBufPage? Vaddr;
}

internal sealed class CvipBuffer
{
    public int Fd;
    public IonBuffer? Buffer;
    public DmaBuffer? DmaBuf;
}

internal enum CvipBufferType
{
    Shared,
    X86,
}

internal sealed class CvipDev
{
    public CvipBuffer SharedBuf { get; } = new CvipBuffer();

    public CvipBuffer X86Buf { get; } = new CvipBuffer();
}

/// <summary>ion_alloc() and friends, reduced: an ION heap exporting a buffer and returning an fd for it.</summary>
internal static class Ion
{
    public const int IonFlagCached = 1;

    [MightSleep]
    public static int Alloc(long size, int heapMask, int flags)
    {
        DmaBuffer buf;

        try
        {
            buf = DmaBuffer.Export(new SystemHeapExporter(), size);
        }
        catch (DmaBufException)
        {
            return E.ENOMEM;
        }

        int fd = buf.Fd();
        buf.Put();
        return fd;
    }

    public static IonBuffer Priv(DmaBuffer dmaBuf) => new IonBuffer(); // dma_buf->priv
}

internal static class Cvip
{
    private const long CvipSharedBufSize = 64 * 1024 * 1024;
    private const long CvipX86BufSize = 32 * 1024 * 1024;
    private const int IonHeapX86CmaId = 3;

    [MightSleep]
    private static void KsysClose(int fd) => DmaBuffer.CloseFd(fd);

    public static IonBuffer? AllocBuffer(CvipDev? cvip, CvipBufferType type)
    {
        int fd;
        long size;
        DmaBufPage? vaddr;
        DmaBuffer dmaBuf;
        IonBuffer? buffer;

        if (cvip == null)
            return null; // ERR_PTR(-EINVAL)

        if (type == CvipBufferType.Shared)
            size = CvipSharedBufSize;
        else if (type == CvipBufferType.X86)
            size = CvipX86BufSize;
        else
            return null;

        fd = Ion.Alloc(size, 1 << IonHeapX86CmaId, Ion.IonFlagCached);
        if (fd < 0)
        {
            Log.Error("Failed to allocate buffer");
            return null; // ERR_PTR(-ENOMEM)
        }

        try
        {
            dmaBuf = DmaBuffer.Get(fd);
        }
        catch (ArgumentException)
        {
            Log.Error("Failed to get dma buffer");
            goto dma_err;
        }

        buffer = Ion.Priv(dmaBuf);
        try
        {
            vaddr = dmaBuf.Kmap(0); // expect: DMA0007
        }
        catch (DmaBufException)
        {
            vaddr = null;
        }

        if (vaddr == null)
        {
            Log.Error("Failed to map buffer");
            goto map_err;
        }

        buffer.Vaddr = vaddr;

        if (type == CvipBufferType.Shared)
        {
            cvip.SharedBuf.Fd = fd;
            cvip.SharedBuf.DmaBuf = dmaBuf;
            cvip.SharedBuf.Buffer = buffer;
        }
        else
        {
            cvip.X86Buf.Fd = fd;
            cvip.X86Buf.DmaBuf = dmaBuf;
            cvip.X86Buf.Buffer = buffer;
        }

        return buffer;

    map_err:
        dmaBuf.Put();
    dma_err:
        KsysClose(fd);
        return null; // ERR_PTR(-EINVAL)
    }
}
