// Static helpers in a class of their own (PageOps) that map or end access on the buffer they are given; the callers
// live in another class and begin the access the helpers rely on (including a helper that ends it). Correct: silent.
using System;
using DmaBuf;

namespace Idiomatic.Round2;

internal static class PageOps
{
    public static int Checksum(DmaBuffer b, long pageNumber)
    {
        using var page = b.Kmap(pageNumber);
        return Bytes.Sum(page.Span);
    }

    public static void FinishRead(DmaBuffer b) => b.EndCpuAccess(0, b.Size, DmaDataDirection.FromDevice);
}

internal sealed class ChecksumService
{
    public int TwoPages(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice))
            return PageOps.Checksum(buf, 0) + PageOps.Checksum(buf, 1);
    }

    public int All(DmaBuffer buf)
    {
        int sum = 0;
        buf.BeginCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        for (long p = 0; p < buf.PageCount; p++)
            sum += PageOps.Checksum(buf, p);
        PageOps.FinishRead(buf);
        return sum;
    }
}
