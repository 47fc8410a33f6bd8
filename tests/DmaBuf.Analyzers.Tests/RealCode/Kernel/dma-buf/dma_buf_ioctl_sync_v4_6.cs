// Kernel: drivers/dma-buf/dma-buf.c, dma_buf_ioctl(), v4.6
// DMA_BUF_IOCTL_SYNC, added in v4.6 so that userspace can bracket its mmap access: with DMA_BUF_SYNC_START the
// ioctl begins CPU access for the direction given, with DMA_BUF_SYNC_END it ends it; userspace pairs the two calls.
// So the START path returns with the access begun on purpose (the Open half), and the END path ends an access a
// previous call began (the Close half). Ported with the runtime's attributes for exactly that: the method is marked
// [LeavesCpuAccessOpen] and [ClosesCpuAccess], as a user of the analyzers would write it.
// v4.6's begin/end_cpu_access take only a direction (the whole buffer): ported as the range (0, dmabuf->size).
// The buffer is the file's private data (a field). Correct: silent.
using DmaBuf;

namespace Kernel.DmaBuf.Ioctl46;

internal sealed class DmaBufSync
{
    public ulong Flags;
}

internal sealed class File
{
    public File(DmaBuffer privateData) => PrivateData = privateData;

    public DmaBuffer PrivateData { get; }
}

internal static class DmaBufIoctl
{
    public const uint DMA_BUF_SYNC_READ = 1 << 0;
    public const uint DMA_BUF_SYNC_WRITE = 2 << 0;
    public const uint DMA_BUF_SYNC_RW = DMA_BUF_SYNC_READ | DMA_BUF_SYNC_WRITE;
    public const uint DMA_BUF_SYNC_START = 0 << 2;
    public const uint DMA_BUF_SYNC_END = 1 << 2;
    public const uint DMA_BUF_SYNC_VALID_FLAGS_MASK = DMA_BUF_SYNC_RW | DMA_BUF_SYNC_END;
    public const uint DMA_BUF_IOCTL_SYNC = 0x40086200;

    // copy_from_user(&sync, (void __user *) arg, sizeof(sync)): returns the bytes not copied.
    [MightSleep]
    private static int CopyFromUser(DmaBufSync to, ulong[] arg)
    {
        if (arg.Length == 0)
            return 8;
        to.Flags = arg[0];
        return 0;
    }

    [LeavesCpuAccessOpen]
    [ClosesCpuAccess]
    public static long Ioctl(File file, uint cmd, ulong[] arg)
    {
        DmaBuffer dmabuf;
        var sync = new DmaBufSync();
        DmaDataDirection direction;
        int ret = 0;

        dmabuf = file.PrivateData;

        switch (cmd)
        {
            case DMA_BUF_IOCTL_SYNC:
                if (CopyFromUser(sync, arg) != 0)
                    return E.EFAULT;

                if ((sync.Flags & ~(ulong)DMA_BUF_SYNC_VALID_FLAGS_MASK) != 0)
                    return E.EINVAL;

                switch (sync.Flags & DMA_BUF_SYNC_RW)
                {
                    case DMA_BUF_SYNC_READ:
                        direction = DmaDataDirection.FromDevice;
                        break;
                    case DMA_BUF_SYNC_WRITE:
                        direction = DmaDataDirection.ToDevice;
                        break;
                    case DMA_BUF_SYNC_RW:
                        direction = DmaDataDirection.Bidirectional;
                        break;
                    default:
                        return E.EINVAL;
                }

                if ((sync.Flags & DMA_BUF_SYNC_END) != 0)
                {
                    dmabuf.EndCpuAccess(0, dmabuf.Size, direction);
                }
                else
                {
                    try
                    {
                        dmabuf.BeginCpuAccess(0, dmabuf.Size, direction);
                    }
                    catch (DmaBufException e)
                    {
                        ret = -e.Errno;
                    }
                }

                return ret;
            default:
                return E.ENOTTY;
        }
    }
}
