// A producer that imports frames and queues them on a bounded Channel<DmaBuffer> for a consumer that puts them.
// Deliberately silent: when TryWrite returns false (the channel is full) the frame is dropped without a Put, a real
// leak; but the buffer was handed to TryWrite, a method outside the compilation that may keep it, so the analysis
// takes the reference as handed on and cannot know that `false` means it was not kept.
using System;
using System.Threading.Channels;
using DmaBuf;

namespace Idiomatic.Round4;

internal sealed class FrameQueue(Channel<DmaBuffer> frames, Action<string> log)
{
    public bool Offer(int fd)
    {
        var frame = DmaBuffer.Get(fd);
        if (frames.Writer.TryWrite(frame))
            return true;

        log($"queue full, dropping {frame}");
        return false;
    }
}
