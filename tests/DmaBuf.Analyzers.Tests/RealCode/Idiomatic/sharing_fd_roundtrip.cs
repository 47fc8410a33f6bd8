// Export, install a descriptor, put the exporter's reference (the descriptor keeps one), import it again with Get,
// use it and put it, then close the descriptor. Correct: silent.
using DmaBuf;

namespace Idiomatic;

internal static class SharingFdRoundtrip
{
    public static long RoundTrip()
    {
        var exported = DmaBuffer.Export(new SystemHeapExporter(), 4 * DmaBuffer.PageSize);
        int fd = exported.Fd();
        exported.Put();

        var imported = DmaBuffer.Get(fd);
        try
        {
            return imported.PageCount;
        }
        finally
        {
            imported.Put();
            DmaBuffer.CloseFd(fd);
        }
    }
}
