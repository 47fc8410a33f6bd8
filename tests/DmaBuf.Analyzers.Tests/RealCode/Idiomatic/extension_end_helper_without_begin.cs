// An extension `FinishWrite()` that ends a CPU write its caller began. Produce begins the same range and direction
// before calling it; Touch calls it on a buffer it imported and never began.
// Bug: in Touch the helper ends an access that was never begun (DMA0002 at the call).
using DmaBuf;

namespace Idiomatic;

internal static class FinishWriteExtensions
{
    public static void FinishWrite(this DmaBuffer b) => b.EndCpuAccess(0, b.Size, DmaDataDirection.ToDevice);
}

internal static class ExtensionEndHelperWithoutBegin
{
    public static void Produce(int fd, byte value)
    {
        var buf = DmaBuffer.Get(fd);
        try
        {
            buf.BeginCpuAccess(0, buf.Size, DmaDataDirection.ToDevice);
            using (var page = buf.Kmap(0))
                page.Span.Fill(value);
            buf.FinishWrite();
        }
        finally
        {
            buf.Put();
        }
    }

    public static void Touch(int fd)
    {
        var buf = DmaBuffer.Get(fd);
        try
        {
            buf.FinishWrite(); // expect: DMA0002
        }
        finally
        {
            buf.Put();
        }
    }
}
