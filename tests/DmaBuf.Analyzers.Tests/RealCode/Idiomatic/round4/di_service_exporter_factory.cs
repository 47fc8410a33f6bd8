// A service written for dependency injection: the primary constructor takes an exporter factory (an exporter backs one
// buffer until its release) and a logger abstraction. Publish exports a buffer sized for the payload, copies it in
// page by page with a using declaration in the loop, installs a descriptor (which keeps a reference of its own) and
// puts the exporter's reference in a finally. The logger is only given strings. Correct: silent.
using System;
using DmaBuf;

namespace Idiomatic.Round4;

internal interface IAppLog
{
    void Info(string message);
}

internal sealed class PayloadPublisher(Func<DmaBufExporter> exporters, IAppLog log)
{
    private readonly Func<DmaBufExporter> _exporters = exporters;
    private readonly IAppLog _log = log;

    public int Publish(ReadOnlySpan<byte> payload)
    {
        if (payload.IsEmpty)
            throw new ArgumentException("nothing to publish", nameof(payload));

        var buf = DmaBuffer.Export(_exporters(), payload.Length);
        try
        {
            using (buf.CpuAccess(0, payload.Length, DmaDataDirection.ToDevice))
            {
                for (long p = 0; p < buf.PageCount; p++)
                {
                    using var page = buf.Kmap(p);
                    var chunk = payload[(int)(p * DmaBuffer.PageSize)..];
                    chunk[..Math.Min(chunk.Length, DmaBuffer.PageSize)].CopyTo(page.Span);
                }
            }

            int fd = buf.Fd();
            _log.Info($"published {payload.Length} bytes as fd {fd}");
            return fd;
        }
        finally
        {
            buf.Put();
        }
    }
}
