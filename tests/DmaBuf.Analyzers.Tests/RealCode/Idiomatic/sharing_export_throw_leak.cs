// An exporter-side helper that exports a buffer, test-attaches the device and returns a descriptor.
// Bug: the explicit throw for a device that cannot take the buffer in one segment leaves without putting the
// reference Export took (DMA0010 at the throw). The interpolated message does not hand the buffer on.
using System;
using DmaBuf;

namespace Idiomatic;

internal static class SharingExportThrowLeak
{
    public static int ExportFor(Device device, long size)
    {
        var buf = DmaBuffer.Export(new SystemHeapExporter(), size);
        var att = buf.Attach(device);
        if (device.RequiresContiguous && size > device.MaxSegmentSize)
        {
            buf.Detach(att);
            throw new NotSupportedException($"{device} cannot map {buf} in one segment"); // expect: DMA0010
        }

        buf.Detach(att);
        int fd = buf.Fd();
        buf.Put();
        return fd;
    }
}
