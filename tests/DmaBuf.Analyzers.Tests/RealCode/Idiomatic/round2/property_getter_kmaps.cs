// A property whose getter maps page 0 of the owner's buffer (a readonly field) and reads the header; the owner's
// methods read the property only inside the access they begin on that field. The getter begins nothing on the field
// (its caller may have begun it). Correct: silent.
using System;
using DmaBuf;

namespace Idiomatic.Round2;

internal sealed class PacketView
{
    private readonly DmaBuffer _buffer;

    public PacketView(DmaBuffer buffer) => _buffer = buffer;

    public ushort Length
    {
        get
        {
            using var page = _buffer.Kmap(0);
            return BitConverter.ToUInt16(page.Span);
        }
    }

    public bool IsComplete()
    {
        using (_buffer.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice))
            return Length > 0 && Length <= DmaBuffer.PageSize;
    }
}
