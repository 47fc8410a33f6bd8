// A reference kept alive until cancellation: the Put is in a lambda registered on the token.
// Deliberately silent: the buffer is captured by a lambda that runs later (handed on); the log line before it is
// not what hands it on.
using System;
using System.Threading;
using DmaBuf;

namespace Idiomatic;

internal static class LambdaRegisterPutSilent
{
    public static CancellationTokenRegistration KeepUntilCancelled(int fd, CancellationToken ct)
    {
        var buf = DmaBuffer.Get(fd);
        Console.WriteLine($"holding {buf} until cancelled");
        return ct.Register(() => buf.Put());
    }
}
