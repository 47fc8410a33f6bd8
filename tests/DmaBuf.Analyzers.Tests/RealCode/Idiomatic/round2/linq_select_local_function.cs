// LINQ over page numbers inside a begun access: `Enumerable.Range(...).Select(Checksum).ToArray()` runs the query
// before the scope ends, and the local function maps each page of the captured buffer with a using declaration.
// Correct: silent.
using System;
using System.Linq;
using DmaBuf;

namespace Idiomatic.Round2;

internal static class LinqSelectLocalFunction
{
    public static int[] Checksums(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, buf.Size, DmaDataDirection.FromDevice))
        {
            return Enumerable.Range(0, (int)buf.PageCount).Select(Checksum).ToArray();
        }

        int Checksum(int pageNumber)
        {
            using var page = buf.Kmap(pageNumber);
            return Bytes.Sum(page.Span);
        }
    }
}
