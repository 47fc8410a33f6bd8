// A `switch` expression picks the direction of the scope it returns from each arm (an unknown mode throws); the scope
// is disposed by a using statement around the work. Correct: silent.
using System;
using DmaBuf;

namespace Idiomatic.Round2;

internal enum TransferMode
{
    Upload,
    Download,
    Both,
}

internal static class SwitchExpressionScope
{
    public static int Touch(DmaBuffer buf, TransferMode mode)
    {
        CpuAccessScope scope = mode switch
        {
            TransferMode.Upload => buf.CpuAccess(0, buf.Size, DmaDataDirection.ToDevice),
            TransferMode.Download => buf.CpuAccess(0, buf.Size, DmaDataDirection.FromDevice),
            TransferMode.Both => buf.CpuAccess(0, buf.Size, DmaDataDirection.Bidirectional),
            _ => throw new ArgumentOutOfRangeException(nameof(mode)),
        };

        using (scope)
        {
            using var page = buf.Kmap(0);
            return page.Span[0];
        }
    }
}
