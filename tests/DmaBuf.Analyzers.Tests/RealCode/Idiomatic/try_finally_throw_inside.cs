// BeginCpuAccess followed by try/finally that ends it; inside, an explicit throw for a bad header leaves through
// the finally after the using declaration has unmapped the atomic page. Correct: silent.
using System.Buffers.Binary;
using System.IO;
using DmaBuf;

namespace Idiomatic;

internal static class TryFinallyThrowInside
{
    public static uint ReadMagic(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 64, DmaDataDirection.FromDevice);
        try
        {
            using var page = buf.KmapAtomic(0);
            uint magic = BinaryPrimitives.ReadUInt32BigEndian(page.Span);
            if (magic == 0)
                throw new InvalidDataException($"{buf} has no header");
            return magic;
        }
        finally
        {
            buf.EndCpuAccess(0, 64, DmaDataDirection.FromDevice);
        }
    }
}
