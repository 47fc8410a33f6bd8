// A switch expression picks the direction once; the begin and the end in a finally use the same unchanged local.
// Correct: silent.
using DmaBuf;

namespace Idiomatic;

internal enum Transfer
{
    Upload,
    Download,
    Both,
}

internal static class PatternSwitchExpressionDirection
{
    public static byte Touch(DmaBuffer buf, Transfer transfer)
    {
        var direction = transfer switch
        {
            Transfer.Upload => DmaDataDirection.ToDevice,
            Transfer.Download => DmaDataDirection.FromDevice,
            _ => DmaDataDirection.Bidirectional,
        };

        buf.BeginCpuAccess(0, DmaBuffer.PageSize, direction);
        try
        {
            using var page = buf.Kmap(0);
            if (transfer != Transfer.Download)
                page.Span[0] ^= 1;
            return page.Span[0];
        }
        finally
        {
            buf.EndCpuAccess(0, DmaBuffer.PageSize, direction);
        }
    }
}
