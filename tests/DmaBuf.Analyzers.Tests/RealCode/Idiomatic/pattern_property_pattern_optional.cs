// A buffer that may be absent: `?.` begins and ends the access, and a property pattern `is { PageCount: > 0 }`
// guards the kmap, all tests of the same unchanged local. Correct: silent.
using DmaBuf;

namespace Idiomatic;

internal sealed class Layer
{
    public DmaBufAttachment? Import { get; init; }

    public long Size { get; init; }

    public int Checksum { get; set; }
}

internal static class PatternPropertyPatternOptional
{
    public static void Compose(Layer layer)
    {
        DmaBuffer? buf = layer.Import?.Buffer;
        buf?.BeginCpuAccess(0, layer.Size, DmaDataDirection.FromDevice);

        if (buf is { PageCount: > 0 })
        {
            using var page = buf.Kmap(0);
            layer.Checksum = Bytes.Sum(page.Span);
        }

        buf?.EndCpuAccess(0, layer.Size, DmaDataDirection.FromDevice);
    }
}
