// DMA0006: a kmap of a page outside every access begun on its buffer (constants, locals, loop counters, conditionals,
// other buffers, lambdas, async) and its message; unknown pages or ranges, partial pages and the caller's access stay
// silent.
using System.Threading.Tasks;
using DmaBuf.Analyzers.Tests.Engine;
using Microsoft.CodeAnalysis.Testing;

namespace DmaBuf.Analyzers.Tests;

// DMA0006: a kmap of a page outside the page span of the CPU access begun on that buffer.
// The page span of (start, length) is start / PageSize .. (start + length - 1) / PageSize: partial pages count as inside.
// Deliberately silent (precision first):
// - an unknown page number or an unknown start or length (parameters, locals written more than once, calls);
// - a buffer whose access the caller may have begun (nothing begun on it in this method);
// - a page inside any one of the accesses open on that buffer.
public class DMA0006Tests
{
    private static Task Verify(string members) => AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(FlowTestCode.Class(members));

    [Fact]
    public Task DesignExampleWithTooShortARange() => Verify(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        var page = {|DMA0006:buf.KmapAtomic(1)|};
        Checksum(page.Span);
        buf.KunmapAtomic(1, page);
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
    }");

    [Fact]
    public Task MessageNamesPageRangeAndBeginLine()
    {
        string source = FlowTestCode.Class(@"
    void M(DmaBuffer buf)
    {
        using (buf.CpuAccess(100, 4096, DmaDataDirection.ToDevice))
        using (var page = buf.Kmap(2))
            page.Span.Clear();
    }");
        DiagnosticResult expected = new DiagnosticResult(RuleDescriptors.DMA0006)
            .WithSpan(13, 27, 13, 38)
            .WithSpan(12, 16, 12, 67)
            .WithArguments("buf", "2", "bytes 100..4195, ToDevice, pages 0..1", 12);
        return AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(source, expected);
    }

    [Fact]
    public Task MessageNamesASinglePageAsPage()
    {
        string source = FlowTestCode.Class(@"
    void M(DmaBuffer buf)
    {
        using (buf.CpuAccess(4096, 4096, DmaDataDirection.FromDevice))
        using (var page = buf.Kmap(2))
            page.Span.Clear();
    }");
        DiagnosticResult expected = new DiagnosticResult(RuleDescriptors.DMA0006)
            .WithSpan(13, 27, 13, 38)
            .WithSpan(12, 16, 12, 70)
            .WithArguments("buf", "2", "bytes 4096..8191, FromDevice, page 1", 12);
        return AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(source, expected);
    }

    [Fact]
    public Task StartOffsetExcludesPageZero() => Verify(@"
    void M(DmaBuffer buf)
    {
        using (buf.CpuAccess(2 * DmaBuffer.PageSize, DmaBuffer.PageSize, DmaDataDirection.FromDevice))
        using (var page = {|DMA0006:buf.Kmap(0)|})
            Checksum(page.Span);
    }");

    [Fact]
    public Task LoopCounterRunsPastTheRange() => Verify(@"
    void M(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice))
        {
            for (long p = 0; p < 4; p++)
            {
                using var page = {|DMA0006:buf.Kmap(p)|};
                Checksum(page.Span);
            }
        }
    }");

    [Fact]
    public Task LocalsAndConstFields() => Verify(@"
    private const long LastPage = 3;

    void M(DmaBuffer buf)
    {
        long start = 2 * DmaBuffer.PageSize;
        const long length = DmaBuffer.PageSize;
        buf.BeginCpuAccess(start, length, DmaDataDirection.FromDevice);
        using (var first = {|DMA0006:buf.Kmap(0)|})
        using (var last = {|DMA0006:buf.Kmap(LastPage)|})
            Checksum(first.Span);
        buf.EndCpuAccess(start, length, DmaDataDirection.FromDevice);
    }");

    [Fact]
    public Task ConditionalPage() => Verify(@"
    void M(DmaBuffer buf, bool last)
    {
        using (buf.CpuAccess(0, 4096, DmaDataDirection.FromDevice))
        using (var page = {|DMA0006:buf.Kmap(last ? 3 : 0)|})
            Checksum(page.Span);
    }");

    [Fact]
    public Task SiblingBuffersKeepTheirOwnRanges() => Verify(@"
    void M(DmaBuffer a, DmaBuffer b)
    {
        using (a.CpuAccess(0, 4096, DmaDataDirection.FromDevice))
        using (b.CpuAccess(4 * 4096, 4096, DmaDataDirection.FromDevice))
        {
            using (var pa = a.Kmap(0))
            using (var pb = {|DMA0006:b.Kmap(0)|})
                Checksum(pa.Span);
        }
    }");

    [Fact]
    public Task SwitchArmWithAnotherRange() => Verify(@"
    void M(DmaBuffer buf, int mode)
    {
        switch (mode)
        {
            case 0:
                buf.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice);
                using (var page = {|DMA0006:buf.Kmap(1)|})
                    Checksum(page.Span);
                buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
                break;
            default:
                buf.BeginCpuAccess(4096, 4096, DmaDataDirection.FromDevice);
                using (var page = buf.Kmap(1))
                    Checksum(page.Span);
                buf.EndCpuAccess(4096, 4096, DmaDataDirection.FromDevice);
                break;
        }
    }");

    [Fact]
    public Task LambdaAndLocalFunction() => Verify(@"
    void M(DmaBuffer buf)
    {
        Action<DmaBuffer> act = b =>
        {
            using (b.CpuAccess(0, 4096, DmaDataDirection.FromDevice))
            using (var page = {|DMA0006:b.Kmap(5)|})
                Checksum(page.Span);
        };
        Use(act);
        Local(buf);

        static void Local(DmaBuffer b)
        {
            using (b.CpuAccess(0, 4096, DmaDataDirection.FromDevice))
            using (var page = {|DMA0006:b.Kmap(6)|})
                Checksum(page.Span);
        }
    }");

    [Fact]
    public Task AsyncMethod() => Verify(@"
    async Task M(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, 4096, DmaDataDirection.FromDevice))
        {
            await Task.Yield();
            using (var page = {|DMA0006:buf.Kmap(1)|})
                page.Span.Clear();
        }
    }");

    [Fact]
    public Task InsideTryFinally() => Verify(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(8192, 100, DmaDataDirection.ToDevice);
        try
        {
            var page = {|DMA0006:buf.KmapAtomic(3)|};
            page.Span.Clear();
            buf.KunmapAtomic(3, page);
        }
        finally
        {
            buf.EndCpuAccess(8192, 100, DmaDataDirection.ToDevice);
        }
    }");

    // ---- Valid ----------------------------------------------------------------------------------------------------

    [Fact]
    public Task Valid_DesignExamples() => Verify(FlowTestCode.DesignExamples);

    [Fact]
    public Task Valid_PartialPagesAtBothEnds() => Verify(@"
    void M(DmaBuffer buf)
    {
        using (buf.CpuAccess(100, 8000, DmaDataDirection.FromDevice))
        {
            using (var first = buf.Kmap(0))
                Checksum(first.Span);
            using (var last = buf.Kmap(1))
                Checksum(last.Span);
        }
    }");

    [Fact]
    public Task Valid_UnknownPageOrRange() => Verify(@"
    void M(DmaBuffer buf, long p, long length)
    {
        using (buf.CpuAccess(0, 4096, DmaDataDirection.FromDevice))
        using (var page = buf.Kmap(p))
            Checksum(page.Span);
        using (buf.CpuAccess(0, length, DmaDataDirection.FromDevice))
        using (var page = buf.Kmap(9))
            Checksum(page.Span);
    }");

    [Fact]
    public Task Valid_LoopWithinTheRange() => Verify(@"
    void M(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, 4 * DmaBuffer.PageSize, DmaDataDirection.FromDevice))
        {
            for (long p = 0; p < 4; p++)
            {
                using var page = buf.Kmap(p);
                Checksum(page.Span);
            }
        }
    }");

    [Fact]
    public Task Valid_PageInTheSecondOfTwoAccesses() => Verify(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        buf.BeginCpuAccess(3 * 4096, 4096, DmaDataDirection.FromDevice);
        using (var page = buf.Kmap(3))
            Checksum(page.Span);
        buf.EndCpuAccess(3 * 4096, 4096, DmaDataDirection.FromDevice);
        buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
    }");

    [Fact]
    public Task Valid_CallerMayHaveBegunMore() => Verify(@"
    void M(DmaBuffer buf)
    {
        using var page = buf.Kmap(7);
    }");

    [Fact]
    public Task Valid_LocalWrittenTwiceIsUnknown() => Verify(@"
    void M(DmaBuffer buf, bool far)
    {
        long p = 0;
        if (far)
            p = 5;
        using (buf.CpuAccess(0, 4096, DmaDataDirection.FromDevice))
        using (var page = buf.Kmap(p))
            Checksum(page.Span);
    }");

    [Fact]
    public Task Valid_LookAlikeTypes() => AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(LookAlike.Source + @"
class C
{
    void M(Fake.DmaBuffer buf)
    {
        using (buf.CpuAccess(0, 4096, Fake.DmaDataDirection.ToDevice))
        using (var page = buf.Kmap(9))
        {
        }
    }
}");

    [Fact]
    public Task Valid_GeneratedCode() => AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync("// <auto-generated/>\n" + FlowTestCode.Class(@"
    void M(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, 4096, DmaDataDirection.ToDevice))
        using (var page = buf.Kmap(9))
        {
        }
    }"));

    [Fact]
    public Task Valid_CodeThatDoesNotCompileYet() => Verify(@"
    void M(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, {|CS0103:len|}, DmaDataDirection.ToDevice))
        using (var page = buf.Kmap(9 + {|CS0103:offset|}))
        {
        }
    }");
}
