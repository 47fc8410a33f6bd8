// The same importing factory, and a caller that keeps the result in a local and puts it in a finally.
// Correct: silent.
using System.Diagnostics;
using DmaBuf;

namespace Idiomatic;

internal static class FactoryResultPut
{
    private static DmaBuffer Import(int fd)
    {
        var buf = DmaBuffer.Get(fd);
        Trace.WriteLine($"imported {buf}");
        return buf;
    }

    public static long PageCountOf(int fd, long atLeast)
    {
        var buf = Import(fd);
        try
        {
            if (buf.PageCount < atLeast)
                return 0;
            return buf.PageCount;
        }
        finally
        {
            buf.Put();
        }
    }
}
