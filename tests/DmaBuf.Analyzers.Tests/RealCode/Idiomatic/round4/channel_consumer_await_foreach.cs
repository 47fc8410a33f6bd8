// A Channel<int> consumer: `await foreach` over ReadAllAsync(ct) with ConfigureAwait(false), one imported buffer per
// descriptor, put in a finally. A static local function reads the frame's sequence number with BinaryPrimitives under
// using declarations, so the access is ended and the page unmapped before the journal write is awaited.
// Correct: silent.
using System.Buffers.Binary;
using System.IO;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using DmaBuf;

namespace Idiomatic.Round4;

internal sealed class FrameSequenceConsumer(ChannelReader<int> descriptors, Stream journal)
{
    public async Task<int> RunAsync(CancellationToken ct)
    {
        int frames = 0;
        var line = new byte[sizeof(ulong)];
        await foreach (int fd in descriptors.ReadAllAsync(ct).ConfigureAwait(false))
        {
            var buf = DmaBuffer.Get(fd);
            try
            {
                BinaryPrimitives.WriteUInt64BigEndian(line, ReadSequence(buf));
                await journal.WriteAsync(line, ct).ConfigureAwait(false);
                frames++;
            }
            finally
            {
                buf.Put();
            }
        }

        return frames;

        static ulong ReadSequence(DmaBuffer frame)
        {
            using var access = frame.CpuAccess(0, sizeof(ulong), DmaDataDirection.FromDevice);
            using var page = frame.Kmap(0);
            return BinaryPrimitives.ReadUInt64LittleEndian(page.Span);
        }
    }
}
