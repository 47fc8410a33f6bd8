// A header check with try/catch: page 0 is mapped, its magic read with BinaryPrimitives, and a bad magic thrown as an
// InvalidDataException that the method's own catch logs and turns into `false`.
// Bug: the throw leaves the try with page 0 still mapped (its Kunmap comes after the check), so the catch's
// `return false;` leaves the method with the page mapped (DMA0003 at that return). The access is a using declaration,
// ended on every path.
using System;
using System.Buffers.Binary;
using System.IO;
using DmaBuf;

namespace Idiomatic.Round4;

internal static class HeaderValidator
{
    private const uint Magic = 0x46524D31;

    public static bool TryValidate(DmaBuffer buf, Action<string> log)
    {
        using var access = buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        try
        {
            var page = buf.Kmap(0);
            uint magic = BinaryPrimitives.ReadUInt32BigEndian(page.Span);
            if (magic != Magic)
                throw new InvalidDataException($"bad magic {magic:X8}");
            buf.Kunmap(0, page);
            return true;
        }
        catch (InvalidDataException ex)
        {
            log(ex.Message);
            return false; // expect: DMA0003
        }
    }
}
