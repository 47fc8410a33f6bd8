// A foreach over this file's own iterator, which reads offsets from a file with File.ReadLines.
// Bug: the enumeration runs the iterator's body, which does synchronous file I/O, while the atomic page is held
// (DMA0005 at the foreach).
using System.Collections.Generic;
using System.IO;
using DmaBuf;

namespace Idiomatic;

internal static class IteratorForeachOwnBlocking
{
    private static IEnumerable<int> ReadOffsets(string path)
    {
        foreach (string line in File.ReadLines(path))
            yield return int.Parse(line);
    }

    public static void Patch(DmaBuffer buf, string offsetsFile)
    {
        using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice))
        using (var page = buf.KmapAtomic(0))
        {
            foreach (int offset in ReadOffsets(offsetsFile)) // expect: DMA0005
                page.Span[offset] = 0xFF;
        }
    }
}
