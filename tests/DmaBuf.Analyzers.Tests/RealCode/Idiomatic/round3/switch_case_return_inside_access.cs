// A switch over an operation inside a mapping, with the access ended after the switch.
// Bug: the Clear case returns from inside the switch with the access begun (DMA0001 at that return).
using DmaBuf;

namespace Idiomatic.Round3;

internal enum SwitchOp
{
    Clear,
    Fill,
}

internal static class SwitchCaseReturnInsideAccess
{
    public static int Apply(DmaBuffer buf, SwitchOp op, byte value)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        using (var page = buf.Kmap(0))
        {
            switch (op)
            {
                case SwitchOp.Clear:
                    page.Span.Clear();
                    return 0; // expect: DMA0001
                case SwitchOp.Fill:
                    page.Span.Fill(value);
                    break;
            }
        }

        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        return 1;
    }
}
