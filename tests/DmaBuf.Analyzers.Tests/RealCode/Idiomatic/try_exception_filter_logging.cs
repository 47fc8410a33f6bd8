// The "log in an exception filter that returns false" idiom around page validation inside a using scope; the
// catch never handles anything, and every way out disposes the scope. Only non-atomic pages are mapped, so the
// filter's logging never runs under an atomic mapping. Correct: silent.
using System;
using System.IO;
using DmaBuf;

namespace Idiomatic;

internal static class TryExceptionFilterLogging
{
    public static void Validate(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, buf.Size, DmaDataDirection.FromDevice))
        {
            try
            {
                for (long p = 0; p < buf.PageCount; p++)
                {
                    using var page = buf.Kmap(p);
                    if (page.Span[0] == 0xFF)
                        throw new InvalidDataException($"page {p} of {buf} is erased");
                }
            }
            catch (Exception ex) when (LogAndContinue(ex))
            {
                throw;
            }
        }
    }

    private static bool LogAndContinue(Exception ex)
    {
        Console.Error.WriteLine(ex.Message);
        return false;
    }
}
