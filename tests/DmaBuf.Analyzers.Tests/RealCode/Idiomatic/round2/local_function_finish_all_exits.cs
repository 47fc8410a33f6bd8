// A local function `Finish()` that ends the access begun on the method's buffer, called on each of the three ways out
// (two early returns and the normal end). Correct: silent.
using DmaBuf;

namespace Idiomatic.Round2;

internal static class LocalFunctionFinishAllExits
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
        {
            Finish();
            return -Errno.EINVAL;
        }

        Finish();
        return version;

        void Finish() => buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
    }
}
