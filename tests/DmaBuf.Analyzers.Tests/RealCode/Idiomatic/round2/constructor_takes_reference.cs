// Constructors that take a reference: `new Frame(DmaBuffer.Get(fd))` hands the reference to the object, which puts it
// in Dispose; the caller disposes the frame with a using declaration, and a factory returns a new frame to its caller.
// Correct: silent.
using System;
using DmaBuf;

namespace Idiomatic.Round2;

internal sealed class OwnedFrame : IDisposable
{
    private readonly DmaBuffer _buffer;

    public OwnedFrame(DmaBuffer buffer) => _buffer = buffer;

    public long Size => _buffer.Size;

    public void Dispose() => _buffer.Put();
}

internal static class ConstructorTakesReference
{
    public static long SizeOf(int fd)
    {
        using var frame = new OwnedFrame(DmaBuffer.Get(fd));
        return frame.Size;
    }

    public static OwnedFrame Adopt(int fd) => new OwnedFrame(DmaBuffer.Get(fd));
}
