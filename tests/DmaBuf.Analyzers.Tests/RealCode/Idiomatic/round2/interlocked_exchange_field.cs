// A holder that swaps its current buffer with `Interlocked.Exchange`: Replace takes a reference with Get, publishes
// it, and puts the one it replaced; Dispose exchanges the field with null and puts what it got. The references live in
// the field (handed on by the exchange). Correct: silent.
using System;
using System.Threading;
using DmaBuf;

namespace Idiomatic.Round2;

internal sealed class CurrentFrameHolder : IDisposable
{
    private DmaBuffer? _current;

    public void Replace(int fd)
    {
        DmaBuffer next = DmaBuffer.Get(fd);
        DmaBuffer? previous = Interlocked.Exchange(ref _current, next);
        previous?.Put();
    }

    public long CurrentSize() => Volatile.Read(ref _current)?.Size ?? 0;

    public void Dispose()
    {
        DmaBuffer? last = Interlocked.Exchange(ref _current, null);
        last?.Put();
    }
}
