// printf debugging inside an atomic mapping.
// Bug: Console.WriteLine is synchronous I/O and may block while the atomic page is held (DMA0005 at the call).
using System;
using System.Buffers.Binary;
using DmaBuf;

namespace Idiomatic;

internal static class LoggingUnderAtomic
{
    private const uint Expected = 0xDB0F_0001;

    public static bool CheckMagic(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice))
        using (var page = buf.KmapAtomic(0))
        {
            uint magic = BinaryPrimitives.ReadUInt32LittleEndian(page.Span);
            if (magic != Expected)
                Console.WriteLine($"bad magic {magic:X8} in {buf}"); // expect: DMA0005
            return magic == Expected;
        }
    }
}
