// DMA0003: a page mapped and not unmapped on some path, unmapped with the wrong call, page, mapping or buffer, or
// unmapped twice, and its message; escapes, unknown page numbers and the Open/Close attributes stay silent.
using System.Threading.Tasks;
using DmaBuf.Analyzers.Tests.Engine;
using Microsoft.CodeAnalysis.Testing;

namespace DmaBuf.Analyzers.Tests;

// DMA0003: a page mapped and not unmapped on some path, or unmapped with the wrong call, page number or buffer.
// Deliberately silent (precision first):
// - a mapping that escapes: returned, stored in a field or collection, passed to a method, captured by a lambda;
// - an unmap of a mapping the method cannot see (a parameter, a field): the mapping may be right;
// - page numbers that are not constants are never called "another page";
// - methods marked [LeavesCpuAccessOpen] (what they leave mapped) and [ClosesCpuAccess];
// - exceptions thrown by arbitrary calls are not paths.
// Most cases map pages of a parameter without a visible begin, so that DMA0007 stays silent (the caller may have begun).
public class DMA0003Tests
{
    private static Task Verify(string members) => AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(FlowTestCode.Class(members));

    [Fact]
    public Task MappedAndNeverUnmapped() => Verify(@"
    void M(DmaBuffer buf)
    {
        var page = buf.Kmap(0);
        Checksum(page.Span);
    {|DMA0003:}|}");

    [Fact]
    public Task MessageNamesPageBufferAndLines()
    {
        string source = FlowTestCode.Class(@"
    void M(DmaBuffer buf)
    {
        var page = buf.KmapAtomic(3);
    }");
        DiagnosticResult expected = new DiagnosticResult(RuleDescriptors.DMA0003)
            .WithSpan(13, 5, 13, 6)
            .WithSpan(12, 20, 12, 37)
            .WithArguments("buf", "3", "mapped with KmapAtomic at line 12 is not unmapped on the path that falls off the end at line 13");
        return AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(source, expected);
    }

    [Fact]
    public Task EarlyReturn() => Verify(@"
    int M(DmaBuffer buf, int i)
    {
        var page = buf.Kmap(0);
        if (i < 0)
            {|DMA0003:return -1;|}
        int value = page.Span[i];
        buf.Kunmap(0, page);
        return value;
    }");

    [Fact]
    public Task ExplicitThrow() => Verify(@"
    void M(DmaBuffer buf, int i)
    {
        var page = buf.KmapAtomic(0);
        if (i < 0)
            {|DMA0003:throw new ArgumentOutOfRangeException(nameof(i));|}
        Checksum(page.Span);
        buf.KunmapAtomic(0, page);
    }");

    [Fact]
    public Task AtomicMappingUnmappedWithKunmap() => Verify(@"
    void M(DmaBuffer buf)
    {
        var page = buf.KmapAtomic(1);
        Checksum(page.Span);
        {|DMA0003:buf.Kunmap(1, page)|};
    }");

    [Fact]
    public Task MappingUnmappedWithKunmapAtomic() => Verify(@"
    void M(DmaBuffer buf)
    {
        var page = buf.Kmap(1);
        Checksum(page.Span);
        {|DMA0003:buf.KunmapAtomic(1, page)|};
    }");

    [Fact]
    public Task AnotherPageNumber() => Verify(@"
    void M(DmaBuffer buf)
    {
        var page = buf.Kmap(1);
        {|DMA0003:buf.Kunmap(2, page)|};
    }");

    [Fact]
    public Task AnotherMappingVariable() => Verify(@"
    void M(DmaBuffer buf)
    {
        var first = buf.Kmap(0);
        var second = buf.Kmap(1);
        {|DMA0003:buf.Kunmap(0, second)|};
        {|DMA0003:buf.Kunmap(1, first)|};
    }");

    [Fact]
    public Task AnotherBuffer() => Verify(@"
    void M(DmaBuffer a, DmaBuffer b)
    {
        var page = a.Kmap(0);
        {|DMA0003:b.Kunmap(0, page)|};
    }");

    [Fact]
    public Task ResultDiscarded() => Verify(@"
    void M(DmaBuffer buf)
    {
        buf.Kmap(0).Span.Clear();
    {|DMA0003:}|}");

    [Fact]
    public Task LoopKeepsMappings() => Verify(@"
    void M(DmaBuffer buf)
    {
        for (long p = 0; p < 4; p++)
        {
            var page = buf.Kmap(p);
            Checksum(page.Span);
        }
    {|DMA0003:}|}");

    [Fact]
    public Task SwitchArmForgetsUnmap() => Verify(@"
    void M(DmaBuffer buf, int mode)
    {
        var page = buf.Kmap(0);
        switch (mode)
        {
            case 0:
                buf.Kunmap(0, page);
                break;
            case 1:
                {|DMA0003:return;|}
            default:
                page.Dispose();
                break;
        }
    }");

    [Fact]
    public Task LocalFunctionAndLambdaLeak() => Verify(@"
    void M(DmaBuffer buf)
    {
        Map(buf);
        Action<DmaBuffer> map = b =>
        {
            var q = b.Kmap(1);
        {|DMA0003:}|};
        Use(map);

        static void Map(DmaBuffer b)
        {
            var p = b.Kmap(0);
        {|DMA0003:}|}
    }");

    [Fact]
    public Task AsyncMethodLeak() => Verify(@"
    async Task M(DmaBuffer buf)
    {
        var page = buf.Kmap(0);
        await Task.Yield();
    {|DMA0003:}|}");

    [Fact]
    public Task TryFinallyUnmapsAnotherPage() => Verify(@"
    void M(DmaBuffer buf)
    {
        var page = buf.Kmap(2);
        try
        {
            Checksum(page.Span);
        }
        finally
        {
            {|DMA0003:buf.Kunmap(3, page)|};
        }
    }");

    [Fact]
    public Task DesignExampleWithoutTheUnmap() => Verify(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        var page = buf.KmapAtomic(1);
        Checksum(page.Span);
        {|DMA0005:buf.EndCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice)|};
    {|DMA0003:}|}");

    [Fact]
    public Task UnmappedTwiceOrDisposedAfterTheUnmap() => Verify(@"
    void M(DmaBuffer buf)
    {
        var page = buf.Kmap(0);
        buf.Kunmap(0, page);
        {|DMA0003:buf.Kunmap(0, page)|};
    }

    void N(DmaBuffer buf)
    {
        var page = buf.KmapAtomic(0);
        buf.KunmapAtomic(0, page);
        {|DMA0003:page.Dispose()|};
    }

    void U(DmaBuffer buf)
    {
        {|DMA0003:using|} var page = buf.Kmap(0);
        buf.Kunmap(0, page);
    }");

    // ---- Valid ----------------------------------------------------------------------------------------------------

    [Fact]
    public Task Valid_DesignExamples() => Verify(FlowTestCode.DesignExamples);

    [Fact]
    public Task Valid_UsingDeclarationWithReturnAndThrow() => Verify(@"
    int M(DmaBuffer buf, int i)
    {
        using var page = buf.Kmap(0);
        if (i < 0)
            throw new ArgumentOutOfRangeException(nameof(i));
        if (i == 0)
            return 0;
        return page.Span[i];
    }");

    [Fact]
    public Task Valid_TryFinally() => Verify(@"
    int M(DmaBuffer buf, int i)
    {
        var page = buf.KmapAtomic(0);
        try
        {
            if (i < 0)
                throw new ArgumentOutOfRangeException(nameof(i));
            return page.Span[i];
        }
        finally
        {
            buf.KunmapAtomic(0, page);
        }
    }");

    [Fact]
    public Task Valid_MappingEscapes() => Verify(@"
    private DmaBufPage _page;

    DmaBufPage Returned(DmaBuffer buf) => buf.Kmap(0);

    void Stored(DmaBuffer buf) => _page = buf.Kmap(0);

    void Collected(DmaBuffer buf, List<DmaBufPage> pages) => pages.Add(buf.Kmap(0));

    void Passed(DmaBuffer buf)
    {
        var page = buf.Kmap(0);
        Use(page);
    }

    void Captured(DmaBuffer buf)
    {
        var page = buf.Kmap(0);
        Action release = () => buf.Kunmap(0, page);
        release();
    }");

    [Fact]
    public Task Valid_ExplicitDisposeAndAlias() => Verify(@"
    void M(DmaBuffer buf)
    {
        var page = buf.Kmap(0);
        Checksum(page.Span);
        page.Dispose();
        var other = buf.KmapAtomic(1);
        var alias = other;
        buf.KunmapAtomic(1, alias);
    }");

    [Fact]
    public Task Valid_LoopUnmapsEachIteration() => Verify(@"
    void M(DmaBuffer buf)
    {
        for (long p = 0; p < 4; p++)
        {
            var page = buf.Kmap(p);
            Checksum(page.Span);
            buf.Kunmap(p, page);
        }

        long n = 0;
        while (n < buf.PageCount)
        {
            using var page = buf.KmapAtomic(n);
            Checksum(page.Span);
            n++;
        }
    }");

    [Fact]
    public Task Valid_OpenCloseAttributes() => Verify(@"
    [LeavesCpuAccessOpen]
    void Open(DmaBuffer buf)
    {
        var page = buf.Kmap(0);
    }

    [ClosesCpuAccess]
    void Close(DmaBuffer buf, DmaBufPage page)
    {
        buf.Kunmap(0, page);
    }");

    [Fact]
    public Task Valid_UnknownPageNumberIsNotAnotherPage() => Verify(@"
    void M(DmaBuffer buf, long p, long q)
    {
        var page = buf.Kmap(p);
        buf.Kunmap(q, page);
    }");

    [Fact]
    public Task Valid_LookAlikeTypes() => AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(LookAlike.Source + @"
class C
{
    void M(Fake.DmaBuffer buf)
    {
        var page = buf.KmapAtomic(0);
        buf.Kunmap(1, page);
        buf.Kmap(2);
    }
}");

    [Fact]
    public Task Valid_GeneratedCode() => AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync("// <auto-generated/>\n" + FlowTestCode.Class(@"
    void M(DmaBuffer buf)
    {
        var page = buf.KmapAtomic(0);
        buf.Kunmap(1, page);
    }"));

    [Fact]
    public Task Valid_CodeThatDoesNotCompileYet() => Verify(@"
    void M(DmaBuffer buf)
    {
        var page = buf.Kmap({|CS0103:p|});
        buf.Kunmap(0, {|CS0103:pag|});
        buf.{|CS7036:KunmapAtomic|}(0);
        page.Dispose();
    }");

    [Fact]
    public Task Valid_ConditionalMapping() => Verify(@"
    void M(DmaBuffer buf, bool atomic)
    {
        if (atomic)
        {
            var page = buf.KmapAtomic(0);
            Checksum(page.Span);
            buf.KunmapAtomic(0, page);
        }
        else
        {
            using var page = buf.Kmap(0);
            Checksum(page.Span);
        }
    }");

    [Fact]
    public Task Valid_CallThatMayThrowIsNotAPath() => Verify(@"
    void M(DmaBuffer buf, byte[] data)
    {
        var page = buf.Kmap(0);
        data.CopyTo(page.Span);
        buf.Kunmap(0, page);
    }");
}
