// A primary-constructor owner that puts the buffer it was given when disposed, then checks that nothing is mapped.
// Bug: MappedPageCount is read through the captured parameter after the code's own Put (DMA0011 at the check);
// only IsReleased and ReferenceCount may be read after a put.
using System;
using DmaBuf;

namespace Idiomatic;

internal sealed class PageCache(DmaBuffer buffer) : IDisposable
{
    public byte First()
    {
        using (buffer.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice))
        using (var page = buffer.Kmap(0))
            return page.Span[0];
    }

    public void Dispose()
    {
        buffer.Put();
        if (buffer.MappedPageCount != 0) // expect: DMA0011
            Console.Error.WriteLine("page cache disposed with pages still mapped");
    }
}
