// A release that logs what it released.
// Bug: the buffer's size is read for the log after this code put its reference (DMA0011 at the use).
using System;
using DmaBuf;

namespace Idiomatic.Round3;

internal static class UseAfterPutInLog
{
    public static void Release(int fd)
    {
        var buf = DmaBuffer.Get(fd);
        long size = buf.PageCount;
        buf.Put();
        Console.WriteLine($"released {size} pages of {buf.Size} bytes"); // expect: DMA0011
    }
}
