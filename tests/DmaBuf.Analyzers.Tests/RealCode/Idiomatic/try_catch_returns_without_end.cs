// An encoder that reports a too-large payload as a DmaBufException and catches it to return false.
// Bug: the catch is reached with the access begun before the try, and returns without ending it (DMA0001 at
// `return false;`). The normal path ends it.
using System;
using DmaBuf;

namespace Idiomatic;

internal static class TryCatchReturnsWithoutEnd
{
    public static bool TryEncode(DmaBuffer buf, ReadOnlySpan<byte> payload)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        try
        {
            if (payload.Length > DmaBuffer.PageSize)
                throw new DmaBufException(Errno.EINVAL, "payload larger than a page");
            using var page = buf.Kmap(0);
            payload.CopyTo(page.Span);
        }
        catch (DmaBufException e)
        {
            Console.Error.WriteLine($"encode into {buf} failed: {e.Message}");
            return false; // expect: DMA0001
        }

        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        return true;
    }
}
