// An owner class: the constructor stores a reference from Get in a readonly field, a method clears every page
// inside an access over the whole buffer, and Dispose puts the reference once. Correct: silent.
using System;
using DmaBuf;

namespace Idiomatic;

internal sealed class FrameBuffer : IDisposable
{
    private readonly DmaBuffer _buffer;
    private bool _disposed;

    public FrameBuffer(int fd) => _buffer = DmaBuffer.Get(fd);

    public long Size => _buffer.Size;

    public void Clear()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using (_buffer.CpuAccess(0, _buffer.Size, DmaDataDirection.ToDevice))
        {
            for (long p = 0; p < _buffer.PageCount; p++)
            {
                using var page = _buffer.Kmap(p);
                page.Span.Clear();
            }
        }
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _buffer.Put();
    }
}
