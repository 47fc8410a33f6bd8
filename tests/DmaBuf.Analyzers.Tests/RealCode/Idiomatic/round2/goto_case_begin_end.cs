// A `switch` whose case 0 begins, reads and then `goto case 1`; case 1 ends the access under `if (mode == 0)`, a second
// test of the unchanged switch value. Correct: silent.
using DmaBuf;

namespace Idiomatic.Round2;

internal static class GotoCaseBeginEnd
{
    public static int Run(DmaBuffer buf, int mode)
    {
        int value = 0;
        switch (mode)
        {
            case 0:
                buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
                using (var page = buf.Kmap(0))
                    value = page.Span[0];
                goto case 1;
            case 1:
                if (mode == 0)
                    buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
                break;
            default:
                return -1;
        }

        return value;
    }
}
