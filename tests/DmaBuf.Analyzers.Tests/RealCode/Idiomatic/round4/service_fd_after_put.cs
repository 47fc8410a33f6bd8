// A service that exports a scratch buffer from an injected exporter factory, zeroes it, and hands out a descriptor.
// Bug: the Put sits in a finally around the fill, so `buf.Fd()` runs after the code's own Put of its only reference
// (DMA0011 at the return).
using System;
using DmaBuf;

namespace Idiomatic.Round4;

internal sealed class ScratchAllocator(Func<DmaBufExporter> exporterFactory)
{
    public int AllocateZeroed(int pages)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pages);
        var buf = DmaBuffer.Export(exporterFactory(), (long)pages * DmaBuffer.PageSize);
        try
        {
            using var access = buf.CpuAccess(0, buf.Size, DmaDataDirection.ToDevice);
            for (long p = 0; p < buf.PageCount; p++)
            {
                using var page = buf.Kmap(p);
                page.Span.Clear();
            }
        }
        finally
        {
            buf.Put();
        }

        return buf.Fd(); // expect: DMA0011
    }
}
