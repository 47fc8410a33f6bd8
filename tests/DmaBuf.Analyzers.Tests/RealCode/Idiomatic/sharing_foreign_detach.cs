// A front/back pair of buffers attached to the same display, torn down by copy-paste.
// Bug: the back buffer's attachment is detached from the front buffer, which it does not belong to (DMA0011 at
// that Detach).
using DmaBuf;

namespace Idiomatic;

internal static class SharingForeignDetach
{
    public static void Present(Device display)
    {
        var front = DmaBuffer.Export(new SystemHeapExporter(), 2 * DmaBuffer.PageSize);
        var back = DmaBuffer.Export(new SystemHeapExporter(), 2 * DmaBuffer.PageSize);
        var frontAtt = front.Attach(display);
        var backAtt = back.Attach(display);

        front.Detach(frontAtt);
        front.Detach(backAtt); // expect: DMA0011
        back.Put();
        front.Put();
    }
}
