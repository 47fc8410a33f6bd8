// A factory that imports a buffer (Get) and returns it, handing its reference to the caller.
// Bug: the caller reads one property of the result and drops it without a Put (DMA0010 at the return).
using System.Diagnostics;
using DmaBuf;

namespace Idiomatic;

internal static class FactoryResultDropped
{
    private static DmaBuffer Import(int fd)
    {
        var buf = DmaBuffer.Get(fd);
        Trace.WriteLine($"imported {buf}");
        return buf;
    }

    public static long PageCountOf(int fd)
    {
        return Import(fd).PageCount; // expect: DMA0010
    }
}
