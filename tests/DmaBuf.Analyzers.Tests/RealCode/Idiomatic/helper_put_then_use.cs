// A helper `Drop` that logs and puts the buffer it is given; the caller imports a buffer and attaches a device.
// Bug: on the normal path the caller drops its reference through the helper and then detaches through the same
// local (DMA0011 at the Detach). The early path drops and returns, which is fine.
using System;
using System.Diagnostics;
using DmaBuf;

namespace Idiomatic;

internal static class HelperPutThenUse
{
    private static void Drop(DmaBuffer buf)
    {
        Debug.WriteLine($"dropping {buf}");
        buf.Put();
    }

    public static int Probe(int fd, Device device, long minimumSize)
    {
        var buf = DmaBuffer.Get(fd);
        if (buf.Size < minimumSize)
        {
            Drop(buf);
            return -Errno.EINVAL;
        }

        var att = buf.Attach(device);
        int segments = device.MaxSegmentCount;
        Drop(buf);
        buf.Detach(att); // expect: DMA0011
        return segments;
    }
}
