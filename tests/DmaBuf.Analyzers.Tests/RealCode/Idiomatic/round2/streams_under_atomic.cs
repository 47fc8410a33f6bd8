// Copying a mapped atomic page to several writers: a MemoryStream and a StringWriter made here (in memory), a
// FileStream and a TextWriter given by the caller.
// Bug: the writes to the file stream and to the caller's TextWriter are synchronous I/O while the atomic mapping is
// held (DMA0005 at each); the in-memory writers do not block.
using System.IO;
using DmaBuf;

namespace Idiomatic.Round2;

internal static class StreamsUnderAtomic
{
    public static byte[] Dump(DmaBuffer buf, FileStream file, TextWriter log)
    {
        using var access = buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        var page = buf.KmapAtomic(0);
        var memory = new MemoryStream();
        memory.Write(page.Span);
        var text = new StringWriter();
        text.WriteLine(page.Span[0]);
        file.Write(page.Span); // expect: DMA0005
        log.WriteLine(page.Span[0]); // expect: DMA0005
        buf.KunmapAtomic(0, page);
        return memory.ToArray();
    }
}
