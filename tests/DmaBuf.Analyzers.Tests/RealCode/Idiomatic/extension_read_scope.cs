// An extension method that begins a read of the whole buffer and returns the scope; the caller disposes it with a
// using statement around an atomic kmap, and puts its reference in a finally. Correct: silent.
using DmaBuf;

namespace Idiomatic;

internal static class ReadScopeExtensions
{
    public static CpuAccessScope Read(this DmaBuffer b) => b.CpuAccess(0, b.Size, DmaDataDirection.FromDevice);
}

internal static class ExtensionReadScope
{
    public static byte Peek(int fd)
    {
        var buf = DmaBuffer.Get(fd);
        try
        {
            using (buf.Read())
            using (var page = buf.KmapAtomic(0))
                return page.Span[0];
        }
        finally
        {
            buf.Put();
        }
    }
}
