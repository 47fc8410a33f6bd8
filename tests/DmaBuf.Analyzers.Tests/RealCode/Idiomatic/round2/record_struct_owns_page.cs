// A `readonly record struct` that owns a mapped page and unmaps it in Dispose; the caller creates it inside an access
// with a using declaration, so the page is unmapped before the scope ends. Correct: silent.
using System;
using DmaBuf;

namespace Idiomatic.Round2;

internal readonly record struct MappedPage(DmaBuffer Buffer, DmaBufPage Page) : IDisposable
{
    public Span<byte> Bytes => Page.Span;

    public void Dispose() => Buffer.Kunmap(Page.PageNumber, Page);
}

internal static class RecordStructOwnsPage
{
    public static void Stamp(DmaBuffer buf, byte value)
    {
        using (buf.CpuAccess(DmaBuffer.PageSize, DmaBuffer.PageSize, DmaDataDirection.ToDevice))
        {
            using var mapped = new MappedPage(buf, buf.Kmap(1));
            mapped.Bytes.Fill(value);
        }
    }
}
