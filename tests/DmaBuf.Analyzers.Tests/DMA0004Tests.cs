// DMA0004: a third atomic kmap held at once, counted through loops, callees, recursion, local functions, invoked
// lambdas and other buffers, and its message; two at a time, plain kmaps and lambdas only defined stay silent.
using System.Threading.Tasks;
using DmaBuf.Analyzers.Tests.Engine;
using Microsoft.CodeAnalysis.Testing;

namespace DmaBuf.Analyzers.Tests;

// DMA0004: more than two atomic kmaps held at the same time (callees in the compilation and loops counted).
// Deliberately silent (precision first):
// - a lambda only defined while mappings are held is not part of that region (only an invocation of it counts);
// - calls to methods outside the compilation, virtual or interface calls resolved to another override, and delegates
//   that are not a local assigned once from a lambda;
// - a callee that breaks the rule on its own is reported inside the callee, not again at every caller that holds none;
// - non-atomic Kmap mappings do not count.
// Mappings handed to other code (a list, an argument) are still counted as held until they are unmapped here.
public class DMA0004Tests
{
    private static Task Verify(string members) => AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(FlowTestCode.Class(members));

    [Fact]
    public Task ThirdAtomicMapping() => Verify(@"
    void M(DmaBuffer buf)
    {
        using var a = buf.KmapAtomic(0);
        using var b = buf.KmapAtomic(1);
        using var c = {|DMA0004:buf.KmapAtomic(2)|};
        Checksum(c.Span);
    }");

    [Fact]
    public Task MessageNamesPageAndTheOthers()
    {
        string source = FlowTestCode.Class(@"
    void M(DmaBuffer buf)
    {
        var a = buf.KmapAtomic(0);
        var b = buf.KmapAtomic(1);
        var c = buf.KmapAtomic(2);
        buf.KunmapAtomic(2, c);
        buf.KunmapAtomic(1, b);
        buf.KunmapAtomic(0, a);
    }");
        DiagnosticResult expected = new DiagnosticResult(RuleDescriptors.DMA0004)
            .WithSpan(14, 17, 14, 34)
            .WithSpan(12, 17, 12, 34)
            .WithSpan(13, 17, 13, 34)
            .WithArguments("The atomic mapping of page 2 of 'buf'", "lines 12 and 13");
        return AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(source, expected);
    }

    [Fact]
    public Task DesignExampleWithThreePages() => Verify(@"
    void M(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.FromDevice))
        using (var p0 = buf.KmapAtomic(0))
        using (var p1 = buf.KmapAtomic(1))
        using (var p2 = {|DMA0004:buf.KmapAtomic(2)|})
            Checksum(p2.Span);
    }");

    [Fact]
    public Task LoopKeepsMappingsAcrossIterations() => Verify(@"
    void M(DmaBuffer buf, List<DmaBufPage> pages)
    {
        for (long p = 0; p < 4; p++)
            pages.Add({|DMA0004:buf.KmapAtomic(p)|});
    }");

    [Fact]
    public Task CalleeMapsWhileTwoAreHeld() => Verify(@"
    void M(DmaBuffer buf)
    {
        var a = buf.KmapAtomic(0);
        var b = buf.KmapAtomic(1);
        {|DMA0004:Peek(buf)|};
        buf.KunmapAtomic(1, b);
        buf.KunmapAtomic(0, a);
    }

    static void Peek(DmaBuffer buf)
    {
        using var page = buf.KmapAtomic(2);
        Checksum(page.Span);
    }");

    [Fact]
    public Task CalleeTwoLevelsDownMapsTwo() => Verify(@"
    void M(DmaBuffer buf)
    {
        using var a = buf.KmapAtomic(0);
        {|DMA0004:Outer(buf)|};
    }

    static void Outer(DmaBuffer buf) => Inner(buf);

    static void Inner(DmaBuffer buf)
    {
        using var b = buf.KmapAtomic(1);
        using var c = buf.KmapAtomic(2);
        Checksum(c.Span);
    }");

    [Fact]
    public Task RecursionWhileHolding() => Verify(@"
    void Walk(DmaBuffer buf, long page)
    {
        using var mapped = buf.KmapAtomic(page);
        if (page > 0)
            {|DMA0004:Walk(buf, page - 1)|};
    }");

    [Fact]
    public Task LocalFunctionAndInvokedLambda() => Verify(@"
    void M(DmaBuffer buf)
    {
        Action peek = () =>
        {
            using var page = buf.KmapAtomic(3);
        };
        using var a = buf.KmapAtomic(0);
        using var b = buf.KmapAtomic(1);
        {|DMA0004:Local()|};
        {|DMA0004:peek()|};

        void Local()
        {
            using var page = buf.KmapAtomic(2);
        }
    }");

    [Fact]
    public Task CalleesLeaveMappingsHeld() => Verify(@"
    [LeavesCpuAccessOpen]
    static DmaBufPage MapOne(DmaBuffer buf, long page) => buf.KmapAtomic(page);

    void M(DmaBuffer buf)
    {
        var a = MapOne(buf, 0);
        var b = MapOne(buf, 1);
        var c = {|DMA0004:buf.KmapAtomic(2)|};
        buf.KunmapAtomic(2, c);
        buf.KunmapAtomic(1, b);
        buf.KunmapAtomic(0, a);
    }");

    [Fact]
    public Task AcrossBuffers() => Verify(@"
    void M(DmaBuffer x, DmaBuffer y)
    {
        using var a = x.KmapAtomic(0);
        using var b = y.KmapAtomic(0);
        using var c = {|DMA0004:x.KmapAtomic(1)|};
    }");

    [Fact]
    public Task SwitchArmAndTryFinally() => Verify(@"
    void M(DmaBuffer buf, int mode)
    {
        var a = buf.KmapAtomic(0);
        try
        {
            var b = buf.KmapAtomic(1);
            switch (mode)
            {
                case 1:
                    using (var c = {|DMA0004:buf.KmapAtomic(2)|})
                        Checksum(c.Span);
                    break;
            }

            buf.KunmapAtomic(1, b);
        }
        finally
        {
            buf.KunmapAtomic(0, a);
        }
    }");

    [Fact]
    public Task AsyncMethodWithoutAwaitInBetween() => Verify(@"
    async Task M(DmaBuffer buf)
    {
        await Task.Yield();
        using (var a = buf.KmapAtomic(0))
        using (var b = buf.KmapAtomic(1))
        using (var c = {|DMA0004:buf.KmapAtomic(2)|})
            Checksum(c.Span);
    }");

    // ---- Valid ----------------------------------------------------------------------------------------------------

    [Fact]
    public Task Valid_DesignExamples() => Verify(FlowTestCode.DesignExamples);

    [Fact]
    public Task Valid_TwoAtATime() => Verify(@"
    void M(DmaBuffer buf)
    {
        var a = buf.KmapAtomic(0);
        var b = buf.KmapAtomic(1);
        buf.KunmapAtomic(0, a);
        var c = buf.KmapAtomic(2);
        buf.KunmapAtomic(1, b);
        buf.KunmapAtomic(2, c);
    }");

    [Fact]
    public Task Valid_LoopUnmapsEachIteration() => Verify(@"
    void M(DmaBuffer buf)
    {
        using var first = buf.KmapAtomic(0);
        for (long p = 1; p < 8; p++)
        {
            var page = buf.KmapAtomic(p);
            Checksum(page.Span);
            buf.KunmapAtomic(p, page);
        }
    }");

    [Fact]
    public Task Valid_LambdaOnlyDefinedInsideTheRegion() => Verify(@"
    void M(DmaBuffer buf)
    {
        var a = buf.KmapAtomic(0);
        var b = buf.KmapAtomic(1);
        Action later = () =>
        {
            using var c = buf.KmapAtomic(2);
        };
        buf.KunmapAtomic(1, b);
        buf.KunmapAtomic(0, a);
        later();
    }");

    [Fact]
    public Task Valid_CalleeBringsItToTwo() => Verify(@"
    void M(DmaBuffer buf)
    {
        using var a = buf.KmapAtomic(0);
        Peek(buf);
    }

    static void Peek(DmaBuffer buf)
    {
        using var page = buf.KmapAtomic(1);
        Checksum(page.Span);
    }");

    [Fact]
    public Task Valid_NonAtomicMappingsDoNotCount() => Verify(@"
    void M(DmaBuffer buf)
    {
        using var n0 = buf.Kmap(0);
        using var n1 = buf.Kmap(1);
        using var a = buf.KmapAtomic(2);
        using var b = buf.KmapAtomic(3);
    }");

    [Fact]
    public Task Valid_RecursionAfterUnmapping() => Verify(@"
    void Walk(DmaBuffer buf, long page)
    {
        using (var mapped = buf.KmapAtomic(page))
            Checksum(mapped.Span);
        if (page > 0)
            Walk(buf, page - 1);
    }");

    [Fact]
    public Task Valid_TwoOnEachBranch() => Verify(@"
    void M(DmaBuffer buf, bool high)
    {
        if (high)
        {
            using var a = buf.KmapAtomic(2);
            using var b = buf.KmapAtomic(3);
        }
        else
        {
            using var a = buf.KmapAtomic(0);
            using var b = buf.KmapAtomic(1);
        }

        using var c = buf.KmapAtomic(4);
    }");

    [Fact]
    public Task Valid_LookAlikeTypes() => AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(LookAlike.Source + @"
class C
{
    void M(Fake.DmaBuffer buf)
    {
        var a = buf.KmapAtomic(0);
        var b = buf.KmapAtomic(1);
        var c = buf.KmapAtomic(2);
    }
}");

    [Fact]
    public Task Valid_GeneratedCode() => AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync("// <auto-generated/>\n" + FlowTestCode.Class(@"
    void M(DmaBuffer buf)
    {
        using var a = buf.KmapAtomic(0);
        using var b = buf.KmapAtomic(1);
        using var c = buf.KmapAtomic(2);
    }"));

    [Fact]
    public Task Valid_CodeThatDoesNotCompileYet() => Verify(@"
    void M(DmaBuffer buf)
    {
        using var a = buf.KmapAtomic(0);
        using var b = buf.KmapAtomic(1);
        {|CS0103:Missing|}(buf);
        using var c = buf.{|CS1061:KmapAtomik|}(2);
    }");
}
