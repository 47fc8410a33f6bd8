// An owner whose constructor validates an imported buffer before keeping it.
// Bug: the explicit throw for a buffer that is too small leaves with the reference from Get not put and not yet
// stored in the field (DMA0010 at the throw). The interpolation of the buffer in the message does not hand it on.
using System;
using DmaBuf;

namespace Idiomatic;

internal sealed class ImportedSurface : IDisposable
{
    private readonly DmaBuffer _buffer;

    public ImportedSurface(int fd, long minimumSize)
    {
        var buffer = DmaBuffer.Get(fd);
        if (buffer.Size < minimumSize)
            throw new ArgumentException($"{buffer} holds {buffer.Size} bytes, {minimumSize} needed", nameof(fd)); // expect: DMA0010
        _buffer = buffer;
    }

    public long Size => _buffer.Size;

    public void Dispose() => _buffer.Put();
}
