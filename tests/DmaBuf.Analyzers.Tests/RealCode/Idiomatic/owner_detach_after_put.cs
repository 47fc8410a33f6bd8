// An owner class that imports a buffer, attaches a device and maps it for DMA; Dispose tears it all down.
// Bug: Dispose puts the reference and then detaches through the same field: a use after the code's own Put
// (DMA0011 at the Detach).
using System;
using DmaBuf;

namespace Idiomatic;

internal sealed class ScanoutImport : IDisposable
{
    private readonly DmaBuffer _buffer;
    private readonly DmaBufAttachment _attachment;
    private readonly ScatterGatherTable _table;
    private bool _disposed;

    public ScanoutImport(int fd, Device display)
    {
        _buffer = DmaBuffer.Get(fd);
        _attachment = _buffer.Attach(display);
        _table = _buffer.MapAttachment(_attachment, DmaDataDirection.ToDevice);
    }

    public ScatterGatherTable Table => _table;

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _buffer.UnmapAttachment(_attachment, _table);
        _buffer.Put();
        _buffer.Detach(_attachment); // expect: DMA0011
    }
}
