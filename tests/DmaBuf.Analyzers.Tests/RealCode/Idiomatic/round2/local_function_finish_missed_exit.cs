// The same `Finish()` local function that ends the access, called on the ways out of a validation.
// Bug: the version check returns without calling Finish (DMA0001 at that return); the other two exits call it.
using DmaBuf;

namespace Idiomatic.Round2;

internal static class LocalFunctionFinishMissedExit
{
    public static int Validate(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        byte magic, version;
        using (var page = buf.Kmap(0))
        {
            magic = page.Span[0];
            version = page.Span[1];
        }

        if (magic != 0x7F)
        {
            Finish();
            return -Errno.EINVAL;
        }

        if (version > 3)
            return -Errno.EINVAL; // expect: DMA0001

        Finish();
        return version;

        void Finish() => buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
    }
}
