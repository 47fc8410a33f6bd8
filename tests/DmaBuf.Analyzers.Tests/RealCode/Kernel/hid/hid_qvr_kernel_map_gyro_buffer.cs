// Kernel: drivers/hid/hid-qvr.c, kernel_map_gyro_buffer(), Qualcomm msm-4.19 (2018-2019)
// The QVR external IMU driver shares a ring of sensor samples with userspace through a dma-buf whose fd userspace
// writes to the `fd` sysfs attribute: fd_store() maps it (kernel_map_gyro_buffer()) or, for -1, unmaps it
// (kernel_unmap_gyro_buffer()). The map half takes the reference with dma_buf_get() into the global sensor struct,
// begins CPU access for the whole buffer (v4.19's direction-only form, ported as (0, size)), kmaps page 0 and keeps
// the address in sensor->vaddr, where the HID raw-event handler writes samples; its failures unwind through
// err_end_access and err_dma, each clearing what was set. The unmap half kunmaps page 0, ends the access with the same
// arguments and puts the reference. An Open/Close pair over a global: the buffer, the access and the page are kept
// in fields between the two calls. Correct: silent.
using System;
using DmaBuf;

namespace Kernel.Hid.Qvr;

internal sealed class QvrExternalSensor
{
    public DmaBuffer? QvrBuf;
    public DmaBufPage? Vaddr;
    public long Vsize;
    public int Fd;
    public ulong TsBase;
    public ulong TsOffset;
}

internal static class HidQvr
{
    private static readonly QvrExternalSensor Sensor = new QvrExternalSensor();

    private static int KernelMapGyroBuffer()
    {
        QvrExternalSensor sensor = Sensor;
        int ret = 0;

        try
        {
            sensor.QvrBuf = DmaBuffer.Get(sensor.Fd);
        }
        catch (ArgumentException)
        {
            ret = E.ENOMEM;
            Log.Error("dma_buf_get failed for fd: {0}", sensor.Fd);
            goto done;
        }

        try
        {
            sensor.QvrBuf.BeginCpuAccess(0, sensor.QvrBuf.Size, DmaDataDirection.Bidirectional);
        }
        catch (DmaBufException e)
        {
            ret = -e.Errno;
        }

        if (ret != 0)
        {
            Log.Error("{0}: dma_buf_begin_cpu_access failed", "kernel_map_gyro_buffer");
            goto err_dma;
        }

        sensor.Vsize = sensor.QvrBuf.Size;
        try
        {
            sensor.Vaddr = sensor.QvrBuf.Kmap(0);
        }
        catch (DmaBufException)
        {
            sensor.Vaddr = null;
        }

        if (sensor.Vaddr == null)
        {
            ret = E.ENOMEM;
            Log.Error("dma_buf_kmap failed for fd: {0}", sensor.Fd);
            goto err_end_access;
        }

        return 0;

    err_end_access:
        sensor.QvrBuf.EndCpuAccess(0, sensor.QvrBuf.Size, DmaDataDirection.Bidirectional);
    err_dma:
        sensor.QvrBuf.Put();
        sensor.QvrBuf = null;
    done:
        return ret;
    }

    private static void KernelUnmapGyroBuffer()
    {
        QvrExternalSensor sensor = Sensor;

        if (sensor.Vaddr == null)
            return;
        sensor.QvrBuf!.Kunmap(0, sensor.Vaddr.Value);
        sensor.QvrBuf.EndCpuAccess(0, sensor.QvrBuf.Size, DmaDataDirection.Bidirectional);
        sensor.Vaddr = null;
        sensor.QvrBuf.Put();
        sensor.QvrBuf = null;
    }

    public static long FdStore(string buf, long count)
    {
        QvrExternalSensor sensor = Sensor;

        if (!int.TryParse(buf, out sensor.Fd))
            return E.EINVAL;
        if (sensor.Fd == -1)
            KernelUnmapGyroBuffer();
        else
            KernelMapGyroBuffer();
        sensor.TsBase = 0;
        sensor.TsOffset = 0;

        return count;
    }
}
