// A capture that detaches in a finally.
// Bug: the table mapped in the try is never unmapped, so the finally detaches an attachment that is still mapped
// (DMA0009 at the Detach).
using DmaBuf;

namespace Idiomatic;

internal static class SharingDetachInFinallyWhileMapped
{
    public static void Capture(DmaBuffer buf, Device camera, byte[] frame)
    {
        var att = buf.Attach(camera);
        try
        {
            var table = buf.MapAttachment(att, DmaDataDirection.FromDevice);
            camera.DmaRead(table, 0, frame);
        }
        finally
        {
            buf.Detach(att); // expect: DMA0009
        }
    }
}
