// A reference from Get handed to an interface whose implementation is not in this compilation.
// Deliberately silent: the sink may keep the buffer (it is handed on), so not putting it here is not reported.
using DmaBuf;

namespace Idiomatic;

internal interface IFrameSink
{
    void Accept(DmaBuffer frame);
}

internal sealed class FrameRouter
{
    private readonly IFrameSink _sink;

    public FrameRouter(IFrameSink sink) => _sink = sink;

    public void Route(int fd)
    {
        var buf = DmaBuffer.Get(fd);
        if (buf.Size == 0)
        {
            buf.Put();
            return;
        }

        _sink.Accept(buf);
    }
}
