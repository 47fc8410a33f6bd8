// The same `Finish()` local function that ends the access, called on the ways out of a validation.
// The version check returns without calling Finish, a real bug. Deliberately silent: the buffer is captured by the local
// function, which is handed what it captures (docs/rules/DMA0001.md: an access that escapes, captured), so the
// access is not followed in the method that captures it.
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
            return -Errno.EINVAL;

        Finish();
        return version;

        void Finish() => buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
    }
}
