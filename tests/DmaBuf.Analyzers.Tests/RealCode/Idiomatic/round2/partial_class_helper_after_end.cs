// The partial class again, with a method that exports a scratch buffer of its own and uses the helper of the other
// part on it.
// Bug: the helper is called after the explicit EndCpuAccess, so it maps a page of a buffer whose access was ended
// (DMA0007 at the call to FirstWord).
using System;
using DmaBuf;

namespace Idiomatic.Round2;

internal sealed partial class ScratchChecker
{
    public int RoundTrip(DmaBufExporter exporter)
    {
        var scratch = DmaBuffer.Export(exporter, DmaBuffer.PageSize);
        scratch.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
        using (var page = scratch.Kmap(0))
            BitConverter.TryWriteBytes(page.Span, 0x1234);
        scratch.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.Bidirectional);

        int word = FirstWord(scratch); // expect: DMA0007
        scratch.Put();
        return word;
    }
}

internal sealed partial class ScratchChecker
{
    private static int FirstWord(DmaBuffer buffer)
    {
        using var page = buffer.Kmap(0);
        return BitConverter.ToInt32(page.Span);
    }
}
