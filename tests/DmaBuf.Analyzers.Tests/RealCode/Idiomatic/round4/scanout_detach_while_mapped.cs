// A scan-out check on several displays: one attachment and mapping per display in a foreach, each display reading
// the first bytes of the buffer through its table.
// Bug: the loop body detaches without unmapping the table first (DMA0009 at the Detach); the table then counts as
// gone, so the end of the iteration is not reported again.
using System;
using System.Collections.Generic;
using DmaBuf;

namespace Idiomatic.Round4;

internal static class ScanoutCheck
{
    public static int Checksum(DmaBuffer buf, IReadOnlyList<Device> displays)
    {
        int sum = 0;
        Span<byte> probe = stackalloc byte[64];
        foreach (var display in displays)
        {
            var attachment = buf.Attach(display);
            var table = buf.MapAttachment(attachment, DmaDataDirection.ToDevice);
            display.DmaRead(table, 0, probe);
            sum += Bytes.Sum(probe);
            buf.Detach(attachment); // expect: DMA0009
        }

        return sum;
    }
}
