// After its own Put a method still names the variable: `nameof(buf)` in the exception it throws and in a log line
// that also reads IsReleased and ReferenceCount, which exist to be read after a put. None of these is a use.
// Correct: silent.
using System;
using System.Diagnostics;
using DmaBuf;

namespace Idiomatic.Round2;

internal static class NameofAfterPut
{
    public static long Release(int fd, bool strict)
    {
        var buf = DmaBuffer.Get(fd);
        long size = buf.Size;
        buf.Put();
        Debug.WriteLine($"{nameof(buf)} released: {buf.IsReleased}, {buf.ReferenceCount} references left");
        if (strict && size == 0)
            throw new ObjectDisposedException(nameof(buf));
        return size;
    }
}
