// An upload that checks the mapped table's length before writing.
// Bug: the early return for a table that is too short leaves the attachment mapped (DMA0009 at that return).
using System;
using DmaBuf;

namespace Idiomatic;

internal static class SharingEarlyReturnMapped
{
    public static bool Upload(DmaBuffer buf, Device device, ReadOnlySpan<byte> data)
    {
        var att = buf.Attach(device);
        var table = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        if (table.TotalLength < data.Length)
            return false; // expect: DMA0009
        device.DmaWrite(table, 0, data);
        buf.UnmapAttachment(att, table);
        buf.Detach(att);
        return true;
    }
}
