// A parser of a table of little-endian 64-bit records through a vmap, with the whole-buffer begin/end of the later
// kernel API and a using declaration for the vmap.
// Bug: the access is begun FromDevice and ended ToDevice in the finally (DMA0002 at the end); the parser only reads.
using System.Buffers.Binary;
using DmaBuf;

namespace Idiomatic.Round4;

internal static class RecordTable
{
    public static long SumRecords(DmaBuffer buf, int count)
    {
        buf.BeginCpuAccess(DmaDataDirection.FromDevice);
        try
        {
            using var map = buf.Vmap();
            long sum = 0;
            for (int i = 0; i < count; i++)
                sum += BinaryPrimitives.ReadInt64LittleEndian(map.GetSpan(i * sizeof(long), sizeof(long)));
            return sum;
        }
        finally
        {
            buf.EndCpuAccess(DmaDataDirection.ToDevice); // expect: DMA0002
        }
    }
}
