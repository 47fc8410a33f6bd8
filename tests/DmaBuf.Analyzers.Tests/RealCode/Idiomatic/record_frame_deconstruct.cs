// A positional record holding a buffer and a byte range, deconstructed; the begun range is the frame's range and
// the loop maps exactly the pages that range touches. Correct: silent.
using System;
using DmaBuf;

namespace Idiomatic;

internal sealed record Frame(DmaBuffer Buffer, long Offset, int Length);

internal static class RecordFrameDeconstruct
{
    public static byte[] Read(Frame frame)
    {
        var (buffer, offset, length) = frame;
        var bytes = new byte[length];
        using (buffer.CpuAccess(offset, length, DmaDataDirection.FromDevice))
        {
            int copied = 0;
            for (long p = offset / DmaBuffer.PageSize; copied < length; p++)
            {
                using var page = buffer.Kmap(p);
                int from = (int)((offset + copied) % DmaBuffer.PageSize);
                int n = Math.Min(length - copied, DmaBuffer.PageSize - from);
                page.Span.Slice(from, n).CopyTo(bytes.AsSpan(copied));
                copied += n;
            }
        }

        return bytes;
    }
}
