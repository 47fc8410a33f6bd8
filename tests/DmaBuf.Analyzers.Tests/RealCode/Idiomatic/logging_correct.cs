// Logging everywhere in correct code: Console.WriteLine(buf), an interpolation, string.Format, Debug.WriteLine and
// Trace, none of them under an atomic mapping and none of them keeping the reference. Correct: silent.
using System;
using System.Diagnostics;
using DmaBuf;

namespace Idiomatic;

internal static class LoggingCorrect
{
    public static int Dump(int fd)
    {
        var buf = DmaBuffer.Get(fd);
        try
        {
            Console.WriteLine(buf);
            Debug.WriteLine($"dumping {buf}: {buf.PageCount} pages");
            Trace.TraceInformation(string.Format("{0} is {1} bytes", buf, buf.Size));
            using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice))
            {
                using var page = buf.Kmap(0);
                Console.WriteLine(Convert.ToHexString(page.Span[..16]));
                return page.Span[0];
            }
        }
        finally
        {
            Console.WriteLine($"done with {buf}");
            buf.Put();
        }
    }
}
