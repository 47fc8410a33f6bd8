// DMA0002: an end with nothing begun on some path, ended twice, or of another start, range or direction (whole-buffer
// forms too), and its message; ends the caller may match, [ClosesCpuAccess] and unknown ranges stay silent.
using System.Threading.Tasks;
using DmaBuf.Analyzers.Tests.Engine;
using Microsoft.CodeAnalysis.Testing;

namespace DmaBuf.Analyzers.Tests;

// DMA0002: EndCpuAccess with no access begun on some path, or with another range or direction than the one begun.
// Deliberately silent (precision first):
// - an end on a parameter, field or other buffer with no begin in this method: the caller may have begun it
//   (even a second such end: the caller may have begun twice);
// - any end in a method marked [ClosesCpuAccess];
// - an end whose range or the begun range is not constant-known (parameters, locals written twice);
// - an end after the buffer was handed to a method marked [LeavesCpuAccessOpen] (it begins more; other methods that
//   did would be reported themselves, so an end after handing the buffer to them is still judged);
// - a receiver that may be reassigned in between.
// A mismatched end is taken to end the access it was meant for: DMA0001 is not reported for that access as well.
public class DMA0002Tests
{
    private static Task Verify(string members) => AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(FlowTestCode.Class(members));

    [Fact]
    public Task DesignExampleEndingAShorterRange() => Verify(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        var page = buf.KmapAtomic(1);
        Checksum(page.Span);
        buf.KunmapAtomic(1, page);
        {|DMA0002:buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice)|};
    }");

    [Fact]
    public Task ExplicitEndInsideAScope()
    {
        string source = FlowTestCode.Class(@"
    void M(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, 4096, DmaDataDirection.ToDevice))
        {
            buf.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        }
    }

    void N(DmaBuffer buf)
    {
        using var scope = buf.CpuAccess(0, 4096, DmaDataDirection.ToDevice);
        buf.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice);
    }");
        DiagnosticResult statement = new DiagnosticResult(RuleDescriptors.DMA0002)
            .WithSpan(12, 9, 12, 14)
            .WithSpan(14, 13, 14, 65)
            .WithArguments("buf", "bytes 0..4095, ToDevice", "the scope's disposal ends it again: the CPU access was already ended at line 14");
        DiagnosticResult declaration = new DiagnosticResult(RuleDescriptors.DMA0002)
            .WithSpan(20, 9, 20, 14)
            .WithSpan(21, 9, 21, 61)
            .WithArguments("buf", "bytes 0..4095, ToDevice", "the scope's disposal ends it again: the CPU access was already ended at line 21");
        return AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(source, statement, declaration);
    }

    [Fact]
    public Task MessageNamesBothRanges()
    {
        string source = FlowTestCode.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        buf.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice);
    }");
        DiagnosticResult mismatch = new DiagnosticResult(RuleDescriptors.DMA0002)
            .WithSpan(13, 9, 13, 61)
            .WithSpan(12, 9, 12, 65)
            .WithArguments("buf", "bytes 0..4095, ToDevice", "the access begun at line 12 is bytes 0..4095, FromDevice");
        return AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(source, mismatch);
    }

    [Fact]
    public Task AnotherStart() => Verify(@"
    void M(DmaBuffer buf)
    {
        using (buf.CpuAccess(4096, 4096, DmaDataDirection.FromDevice))
        {
            {|DMA0002:buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice)|};
        }
    }");

    [Fact]
    public Task CreatedBufferNeverBegun() => Verify(@"
    void M()
    {
        var buf = DmaBuffer.Export(new SystemHeapExporter(), 4096);
        {|DMA0002:buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice)|};
        buf.Put();
    }");

    [Fact]
    public Task BegunOnlyOnSomePath() => Verify(@"
    void M(DmaBuffer buf, bool fill)
    {
        if (fill)
        {
            buf.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
            using var page = buf.Kmap(0);
            page.Span.Clear();
        }

        {|DMA0002:buf.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice)|};
    }");

    [Fact]
    public Task EndedTwice() => Verify(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        buf.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        {|DMA0002:buf.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice)|};
    }");

    [Fact]
    public Task EndInsideTheLoopBegunBeforeIt() => Verify(@"
    void M(DmaBuffer buf, int n)
    {
        buf.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        for (int i = 0; i < n; i++)
        {
            {|DMA0002:buf.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice)|};
        }
    {|DMA0001:}|}");

    [Fact]
    public Task MismatchInFinally() => Verify(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 8192, DmaDataDirection.Bidirectional);
        try
        {
            Console.WriteLine();
        }
        finally
        {
            {|DMA0002:buf.EndCpuAccess(0, 4096, DmaDataDirection.Bidirectional)|};
        }
    }");

    [Fact]
    public Task SiblingBuffersDoNotMix() => Verify(@"
    void M(DmaBuffer a, DmaBuffer b)
    {
        a.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        b.BeginCpuAccess(0, 8192, DmaDataDirection.ToDevice);
        b.EndCpuAccess(0, 8192, DmaDataDirection.ToDevice);
        {|DMA0002:a.EndCpuAccess(0, 8192, DmaDataDirection.ToDevice)|};
    }");

    [Fact]
    public Task LambdaAndLocalFunction() => Verify(@"
    void M(DmaBuffer buf)
    {
        Action<DmaBuffer> act = b =>
        {
            using (b.CpuAccess(0, 4096, DmaDataDirection.ToDevice))
                {|DMA0002:b.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice)|};
        };
        Use(act);
        Local(buf);

        static void Local(DmaBuffer b)
        {
            b.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
            b.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice);
            {|DMA0002:b.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice)|};
        }
    }");

    [Fact]
    public Task AsyncMethod() => Verify(@"
    async Task M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        await Task.Yield();
        {|DMA0002:buf.EndCpuAccess(0, 2 * 4096, DmaDataDirection.ToDevice)|};
    }");

    [Fact]
    public Task SwitchArmEndsWhatItDidNotBegin() => Verify(@"
    void M(DmaBuffer buf, int mode)
    {
        switch (mode)
        {
            case 0:
                buf.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
                buf.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice);
                break;
            case 1:
                {|DMA0002:buf.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice)|};
                break;
        }
    }");

    [Fact]
    public Task RulePageExample_BufferHandedToAMethodInBetween() => Verify(@"
    static void Read(DmaBuffer buf)
    {
        using var page = buf.Kmap(1);
    }

    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        Read(buf);
        {|DMA0002:buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice)|};
    }");

    // ---- Valid ----------------------------------------------------------------------------------------------------

    [Fact]
    public Task Valid_DesignExamples() => Verify(FlowTestCode.DesignExamples);

    [Fact]
    public Task Valid_EndOnParameterWithoutBegin() => Verify(@"
    private readonly DmaBuffer _buf = null!;

    void M(DmaBuffer buf)
    {
        buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        _buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
    }");

    [Fact]
    public Task Valid_ClosesCpuAccess() => Verify(@"
    [ClosesCpuAccess]
    void Close(int fd)
    {
        var buf = DmaBuffer.Get(fd);
        buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        buf.Put();
    }");

    [Fact]
    public Task Valid_UnknownRanges() => Verify(@"
    void M(DmaBuffer buf, long length, DmaDataDirection direction)
    {
        buf.BeginCpuAccess(0, length, direction);
        buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
    }");

    [Fact]
    public Task Valid_ConstantsFoldToTheSameRange() => Verify(@"
    private const long Pages = 2;

    void M(DmaBuffer buf)
    {
        long length = Pages * DmaBuffer.PageSize;
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        buf.EndCpuAccess(0, length, DmaDataDirection.FromDevice);
        buf.BeginCpuAccess(0, 8192, DmaDataDirection.FromDevice);
        buf.EndCpuAccess(0L, 8192L, (DmaDataDirection)2);
    }");

    [Fact]
    public Task Valid_TwoAccessesEndedInAnyOrder() => Verify(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        buf.BeginCpuAccess(4096, 4096, DmaDataDirection.ToDevice);
        buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        buf.EndCpuAccess(4096, 4096, DmaDataDirection.ToDevice);
    }");

    [Fact]
    public Task Valid_ReassignedReceiverAndHandedAway() => Verify(@"
    [LeavesCpuAccessOpen]
    static void Open(DmaBuffer buf) => buf.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice);

    void M(DmaBuffer a, DmaBuffer b)
    {
        var buf = a;
        buf.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        buf = b;
        buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);

        var created = DmaBuffer.Export(new SystemHeapExporter(), 4096);
        Open(created);
        created.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        created.Put();
    }");

    [Fact]
    public Task Valid_LoopBeginsAndEndsEachIteration() => Verify(@"
    void M(DmaBuffer buf, int n)
    {
        for (int i = 0; i < n; i++)
        {
            buf.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
            if (i == 3)
            {
                buf.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice);
                continue;
            }

            buf.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        }
    }");

    [Fact]
    public Task Valid_LookAlikeTypes() => AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(LookAlike.Source + @"
class C
{
    void M(Fake.DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 4096, Fake.DmaDataDirection.ToDevice);
        buf.EndCpuAccess(0, 8192, Fake.DmaDataDirection.FromDevice);
    }
}");

    [Fact]
    public Task Valid_GeneratedCode() => AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync("// <auto-generated/>\n" + FlowTestCode.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        buf.EndCpuAccess(0, 8192, DmaDataDirection.FromDevice);
    }"));

    [Fact]
    public Task Valid_CodeThatDoesNotCompileYet() => Verify(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        buf.EndCpuAccess(0, 4096, DmaDataDirection.{|CS0117:Sideways|});
    }");

    // The whole-buffer forms pair with each other only, in the same direction. As for ranges, a mismatched end is
    // reported once and taken as the end of the access it was meant for (no DMA0001 for it afterwards).
    [Fact]
    public Task WholeBuffer_EndMatchesWholeBegin() => Verify(@"
    void M(DmaBuffer buf, DmaDataDirection dir)
    {
        buf.BeginCpuAccess(DmaDataDirection.FromDevice);
        buf.EndCpuAccess(DmaDataDirection.FromDevice);
        buf.BeginCpuAccess(dir);
        buf.EndCpuAccess(dir);
    }");

    [Fact]
    public Task WholeBuffer_EndOfRangedBegin()
    {
        string source = FlowTestCode.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        buf.EndCpuAccess(DmaDataDirection.FromDevice);
    }");
        DiagnosticResult expected = new DiagnosticResult(RuleDescriptors.DMA0002)
            .WithSpan(13, 9, 13, 54)
            .WithSpan(12, 9, 12, 65)
            .WithArguments("buf", "the whole buffer, FromDevice", "the access begun at line 12 is bytes 0..4095, FromDevice");
        return AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(source, expected);
    }

    [Fact]
    public Task WholeBuffer_RangedEndOfWholeBegin() => Verify(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(DmaDataDirection.ToDevice);
        {|DMA0002:buf.EndCpuAccess(0, buf.Size, DmaDataDirection.ToDevice)|};
    }");

    [Fact]
    public Task WholeBuffer_OtherDirection() => Verify(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(DmaDataDirection.ToDevice);
        {|DMA0002:buf.EndCpuAccess(DmaDataDirection.FromDevice)|};
    }");

    [Fact]
    public Task WholeBuffer_EndedTwice() => Verify(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(DmaDataDirection.ToDevice);
        buf.EndCpuAccess(DmaDataDirection.ToDevice);
        {|DMA0002:buf.EndCpuAccess(DmaDataDirection.ToDevice)|};
    }");

    [Fact]
    public Task WholeBuffer_ScopeDisposalAfterExplicitEnd() => Verify(@"
    void M(DmaBuffer buf)
    {
        {|DMA0002:using|} (buf.CpuAccess(DmaDataDirection.ToDevice))
        {
            buf.EndCpuAccess(DmaDataDirection.ToDevice);
        }
    }");

    [Fact]
    public Task WholeBuffer_EndOfCallersAccessIsSilent() => Verify(@"
    void M(DmaBuffer buf) => buf.EndCpuAccess(DmaDataDirection.ToDevice);");
}
