// The Dispose(bool) pattern again, with a log line that reports how much was released.
// Bug: the log line reads the field's Size after Dispose(true) has put the reference the field holds: a use after
// the code's own put (DMA0011 at the log line). The reference counts and the null check before it are not uses.
using System;
using System.Diagnostics;
using DmaBuf;

namespace Idiomatic.Round2;

internal class CapturedFrame : IDisposable
{
    private readonly DmaBuffer _buffer;
    private bool _disposed;

    public CapturedFrame(int fd) => _buffer = DmaBuffer.Get(fd);

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (_disposed)
            return;

        if (disposing)
        {
            _buffer.Put();
            Debug.WriteLine("released a frame of {0} bytes", _buffer.Size); // expect: DMA0011
        }

        _disposed = true;
    }
}
