// A page that is mapped only when asked for, held in a `DmaBufPage?`, and unmapped under `HasValue`, which is
// null exactly when the bool parameter was false. Correct: silent.
using DmaBuf;

namespace Idiomatic;

internal static class NullablePageHasValue
{
    public static int Scan(DmaBuffer buf, bool withHeader)
    {
        using var access = buf.CpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        DmaBufPage? header = withHeader ? buf.Kmap(0) : null;
        using var body = buf.Kmap(1);
        int sum = Bytes.Sum(body.Span);
        if (header.HasValue)
        {
            sum += header.Value.Span[0];
            buf.Kunmap(0, header.Value);
        }

        return sum;
    }
}
