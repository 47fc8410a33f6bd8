// A logger abstraction with one implementation in this compilation, which appends each line to a file.
// Bug: a failed check byte is logged while the page's atomic mapping is held; the interface call reaches
// File.AppendAllText through FileFrameLog.Warn, synchronous I/O that may block (DMA0005 at the call).
using System;
using System.IO;
using DmaBuf;

namespace Idiomatic.Round4;

internal interface IFrameLog
{
    void Warn(string message);
}

internal sealed class FileFrameLog(string path) : IFrameLog
{
    public void Warn(string message) => File.AppendAllText(path, message + Environment.NewLine);
}

internal sealed class CheckByteScanner(IFrameLog log)
{
    public int CountCorrupt(DmaBuffer buf)
    {
        int corrupt = 0;
        using var access = buf.CpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        for (long p = 0; p < buf.PageCount; p++)
        {
            using var page = buf.KmapAtomic(p);
            if (page.Span[^1] != Xor(page.Span[..^1]))
            {
                corrupt++;
                log.Warn($"page {p} of {buf} fails its check byte"); // expect: DMA0005
            }
        }

        return corrupt;
    }

    private static byte Xor(ReadOnlySpan<byte> bytes)
    {
        byte x = 0;
        foreach (byte b in bytes)
            x ^= b;
        return x;
    }
}
