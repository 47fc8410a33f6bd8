// A partial class split in two parts (as a source generator or a designer file would split it): one part holds the
// buffer and begins and ends the access, the other part holds the private helper that maps a page of the buffer it is
// given. Correct: silent.
using System;
using DmaBuf;

namespace Idiomatic.Round2;

internal sealed partial class FrameReader
{
    private readonly DmaBuffer _frame;

    public FrameReader(DmaBuffer frame) => _frame = frame;

    public int ReadHeader()
    {
        using (_frame.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice))
            return FirstWord(_frame);
    }
}

internal sealed partial class FrameReader
{
    private static int FirstWord(DmaBuffer buffer)
    {
        using var page = buffer.Kmap(0);
        return BitConverter.ToInt32(page.Span);
    }
}
