// An owner with the full Dispose(bool) pattern: the constructor takes a reference with Get into a field, Dispose()
// calls Dispose(true) and suppresses finalization, the finalizer calls Dispose(false), and only the disposing path
// puts the reference, once (a flag guards against a second Dispose). Correct: silent.
using System;
using DmaBuf;

namespace Idiomatic.Round2;

internal class ImportedSurface : IDisposable
{
    private DmaBuffer? _buffer;
    private bool _disposed;

    public ImportedSurface(int fd) => _buffer = DmaBuffer.Get(fd);

    ~ImportedSurface() => Dispose(false);

    public long Size => _buffer?.Size ?? 0;

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (_disposed)
            return;

        if (disposing && _buffer is not null)
        {
            _buffer.Put();
            _buffer = null;
        }

        _disposed = true;
    }
}
