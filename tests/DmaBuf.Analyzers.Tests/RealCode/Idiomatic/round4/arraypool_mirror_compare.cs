// A mirror check between two buffers, as an extension method: both are read under using-declared accesses over
// their whole size, LINQ with a static lambda yields the page numbers, each pair of pages is mapped atomically (two
// held at most, released at the end of each iteration) and compared with SequenceEqual, and the first page that
// differs is copied into an array rented from ArrayPool by a generic helper; the caller returns it in a finally.
// Correct: silent.
using System;
using System.Buffers;
using System.Linq;
using DmaBuf;

namespace Idiomatic.Round4;

internal static class MirrorCheck
{
    public static long FirstDifference(this DmaBuffer primary, DmaBuffer mirror, out byte[]? evidence)
    {
        evidence = null;
        int count = checked((int)Math.Min(primary.PageCount, mirror.PageCount));
        using var a = primary.CpuAccess(0, primary.Size, DmaDataDirection.FromDevice);
        using var b = mirror.CpuAccess(0, mirror.Size, DmaDataDirection.FromDevice);
        foreach (long p in Enumerable.Range(0, count).Select(static i => (long)i))
        {
            using var left = primary.KmapAtomic(p);
            using var right = mirror.KmapAtomic(p);
            if (!left.Span.SequenceEqual(right.Span))
            {
                evidence = RentCopy(left.Span);
                return p;
            }
        }

        return -1;
    }

    public static string Describe(DmaBuffer primary, DmaBuffer mirror)
    {
        long page = primary.FirstDifference(mirror, out byte[]? evidence);
        try
        {
            return page < 0 ? "mirrors agree" : $"page {page} differs, first byte {evidence![0]:X2}";
        }
        finally
        {
            if (evidence is not null)
                ArrayPool<byte>.Shared.Return(evidence);
        }
    }

    private static T[] RentCopy<T>(Span<T> source)
    {
        T[] array = ArrayPool<T>.Shared.Rent(source.Length);
        source.CopyTo(array);
        return array;
    }
}
