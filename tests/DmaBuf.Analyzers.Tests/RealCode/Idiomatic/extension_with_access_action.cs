// An extension `WithAccess(this DmaBuffer, page, direction, body)` that begins, maps, runs the body and releases
// both; callers pass lambdas. (The body is a delegate over Span<byte>: the harness compiles as C# 12, where
// Action<Span<byte>> is not allowed.) Correct: silent.
using System;
using DmaBuf;

namespace Idiomatic;

internal delegate void SpanBody(Span<byte> bytes);

internal static class WithAccessExtensions
{
    public static void WithAccess(this DmaBuffer b, long page, DmaDataDirection direction, SpanBody body)
    {
        using (b.CpuAccess(page * DmaBuffer.PageSize, DmaBuffer.PageSize, direction))
        using (var mapped = b.Kmap(page))
            body(mapped.Span);
    }
}

internal static class ExtensionWithAccessAction
{
    public static int ResetAndSum(DmaBuffer buf)
    {
        buf.WithAccess(0, DmaDataDirection.ToDevice, span => span.Clear());
        int total = 0;
        buf.WithAccess(1, DmaDataDirection.FromDevice, span => total += Bytes.Sum(span));
        return total;
    }
}
