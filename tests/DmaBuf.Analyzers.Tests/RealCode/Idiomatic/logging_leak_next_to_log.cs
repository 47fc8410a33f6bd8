// An ILogger-like helper in the file that only formats its arguments, and LINQ over the buffer's attachments.
// Bug: when the buffer is not attached to the display, the method logs and returns without putting the reference
// it took with Get (DMA0010 at that return); logging the buffer does not hand it on.
using System;
using System.Linq;
using DmaBuf;

namespace Idiomatic;

internal static class Log
{
    public static void Warn(string format, params object?[] args) => Console.Error.WriteLine("warn: " + format, args);
}

internal static class LoggingLeakNextToLog
{
    public static bool ShowOn(int fd, Device display)
    {
        var buf = DmaBuffer.Get(fd);
        if (!buf.Attachments.Any(a => a.Device == display))
        {
            Log.Warn("{0} is not attached to {1}", buf, display);
            return false; // expect: DMA0010
        }

        Console.WriteLine($"showing {buf} on {display}");
        buf.Put();
        return true;
    }
}
