// DMA0001: a CPU access left begun at a way out (returns, throws, breaks, goto, switch arms, lambdas, async, undisposed
// scopes), ranged or whole-buffer, and its message; escapes, try/finally, [LeavesCpuAccessOpen] and calls that may
// throw stay silent.
using System.Threading.Tasks;
using DmaBuf.Analyzers.Tests.Engine;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;
using Verify = DmaBuf.Analyzers.Tests.AnalyzerVerifier<DmaBuf.Analyzers.Rules.DmaBufFlowAnalyzer>;

namespace DmaBuf.Analyzers.Tests;

// DMA0001: CPU access begun and not ended on some path out of the method.
// Deliberately silent (precision first):
// - exceptions thrown by arbitrary calls are not paths, only an explicit throw is (Valid.CallThatMayThrow);
// - an access that escapes: the scope returned or stored, the buffer handed to another method or captured by a lambda;
// - accesses on a buffer the analysis cannot follow (a receiver reassigned in between, a call result);
// - methods marked [LeavesCpuAccessOpen] (the Open half of an Open/Close pair), and methods that leave the access
//   begun on a parameter on every way they return and have callers in the compilation: the callers then carry the
//   obligation and are reported at their own exits (LocalFunctionLeaves);
// Correlated branches are followed (Engine/CorrelationTests): a second test of a value that did not change since the
// first takes the same branch.
public class DMA0001Tests
{
    private static Task Verify(string members) => AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(FlowTestCode.Class(members));

    [Fact]
    public Task EarlyReturn_DesignDocWrongVersion() => Verify(@"
    void Fill(DmaBuffer buf, bool skip)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        if (skip)
            {|DMA0001:return;|}
        using (var page = buf.Kmap(0))
            page.Span.Fill(0xFF);
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }");

    [Fact]
    public Task MessageNamesBufferRangeBeginLineAndPath()
    {
        string source = FlowTestCode.Class(@"
    void Fill(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
    }");
        // The usings take six lines and the class two: the begin is at line 12 and the closing brace at line 13.
        DiagnosticResult expected = new DiagnosticResult(RuleDescriptors.DMA0001)
            .WithSpan(13, 5, 13, 6)
            .WithSpan(12, 9, 12, 83)
            .WithArguments("buf", "bytes 0..8191, FromDevice", 12, "falls off the end at line 13");
        return AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(source, expected);
    }

    [Fact]
    public Task FallsOffTheEnd() => Verify(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        using var page = buf.Kmap(0);
        page.Span.Clear();
    {|DMA0001:}|}");

    [Fact]
    public Task ExplicitThrow() => Verify(@"
    void M(DmaBuffer buf, int n)
    {
        buf.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        if (n < 0)
            {|DMA0001:throw new ArgumentOutOfRangeException(nameof(n));|}
        buf.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice);
    }");

    [Fact]
    public Task ScopeNeverDisposed() => Verify(@"
    void M(DmaBuffer buf)
    {
        var scope = buf.CpuAccess(0, 4096, DmaDataDirection.FromDevice);
        using var page = buf.Kmap(0);
        Checksum(page.Span);
    {|DMA0001:}|}");

    [Fact]
    public Task ScopeDiscarded() => Verify(@"
    void M(DmaBuffer buf)
    {
        buf.CpuAccess(0, 4096, DmaDataDirection.FromDevice);
    {|DMA0001:}|}");

    [Fact]
    public Task SwitchArmReturns() => Verify(@"
    void M(DmaBuffer buf, int mode)
    {
        buf.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        switch (mode)
        {
            case 0:
                buf.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice);
                break;
            case 1:
                {|DMA0001:return;|}
            default:
                buf.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice);
                break;
        }
    }");

    [Fact]
    public Task BreakLeavesLoopWithAccessOpen() => Verify(@"
    void M(DmaBuffer buf, bool[] stop)
    {
        for (int i = 0; i < stop.Length; i++)
        {
            buf.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
            if (stop[i])
                break;
            buf.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        }
    {|DMA0001:}|}");

    [Fact]
    public Task ThrowCaughtThenReturn() => Verify(@"
    void M(DmaBuffer buf, bool bad)
    {
        try
        {
            buf.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
            if (bad)
                throw new InvalidOperationException();
            buf.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        }
        catch (InvalidOperationException)
        {
            {|DMA0001:return;|}
        }
    }");

    [Fact]
    public Task SiblingBuffersOnlyOneEnded() => Verify(@"
    void M(DmaBuffer a, DmaBuffer b)
    {
        a.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        b.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        a.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice);
    {|DMA0001:}|}");

    [Fact]
    public Task LocalFunctionLeaves() => Verify(@"
    void M(DmaBuffer buf)
    {
        Begin(buf);

        static void Begin(DmaBuffer b)
        {
            b.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        }
    {|DMA0001:}|}");

    [Fact]
    public Task OpenWithoutCallersIsJudgedItself() => Verify(@"
    void Begin(DmaBuffer b)
    {
        b.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
    {|DMA0001:}|}");

    [Fact]
    public Task LambdaLeaves() => Verify(@"
    void M(DmaBuffer buf)
    {
        Action<DmaBuffer> begin = b =>
        {
            b.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        {|DMA0001:}|};
        Use(begin);
    }");

    [Fact]
    public Task AsyncMethodLeaves() => Verify(@"
    async Task M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        await Task.Yield();
    {|DMA0001:}|}");

    [Fact]
    public Task GotoSkipsTheEnd() => Verify(@"
    void M(DmaBuffer buf, bool skip)
    {
        buf.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        if (skip)
            goto done;
        buf.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice);
    done:
        Console.WriteLine();
    {|DMA0001:}|}");

    [Fact]
    public Task FieldBuffer() => Verify(@"
    private readonly DmaBuffer _buf = null!;

    void M()
    {
        _buf.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
    {|DMA0001:}|}");

    [Fact]
    public Task EndedWithinTryButNotOnThrowPath() => Verify(@"
    void M(DmaBuffer buf, bool bad)
    {
        buf.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        try
        {
            if (bad)
                {|DMA0001:throw new InvalidOperationException();|}
        }
        finally
        {
            Console.WriteLine();
        }

        buf.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice);
    }");

    [Fact]
    public Task DesignExampleWithoutTheEnd() => Verify(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        var page = buf.KmapAtomic(1);
        Checksum(page.Span);
        buf.KunmapAtomic(1, page);
    {|DMA0001:}|}");

    [Fact]
    public Task PropertyChainReceiver() => Verify(@"
    sealed class Owner
    {
        public DmaBuffer Buffer { get; } = null!;
    }

    private readonly Owner _owner = new();

    void M(bool quick)
    {
        _owner.Buffer.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        if (quick)
            {|DMA0001:return;|}
        _owner.Buffer.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
    }");

    [Fact]
    public Task FlagTestedTheWrongWay() => Verify(@"
    void M(DmaBuffer buf, bool fill)
    {
        if (fill)
            buf.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        if (!fill)
            {|DMA0002:buf.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice)|};
    {|DMA0001:}|}");

    // ---- Valid ----------------------------------------------------------------------------------------------------

    [Fact]
    public Task Valid_DesignExamples() => Verify(FlowTestCode.DesignExamples + @"

    void Fill(DmaBuffer buf, bool skip)
    {
        using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice))
        {
            if (skip)
                return;
            using var page = buf.Kmap(0);
            page.Span.Fill(0xFF);
        }
    }");

    [Fact]
    public Task Valid_TryFinally() => Verify(@"
    void M(DmaBuffer buf, bool bad)
    {
        buf.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        try
        {
            if (bad)
                throw new InvalidOperationException();
            if (buf.Size > 10)
                return;
        }
        finally
        {
            buf.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        }
    }");

    [Fact]
    public Task Valid_UsingDeclarationWithEarlyReturnAndThrow() => Verify(@"
    int M(DmaBuffer buf, int n)
    {
        using var scope = buf.CpuAccess(0, 4096, DmaDataDirection.FromDevice);
        if (n < 0)
            throw new ArgumentOutOfRangeException(nameof(n));
        if (n == 0)
            return 0;
        using var page = buf.Kmap(0);
        return page.Span[n];
    }");

    [Fact]
    public Task Valid_ScopeReturnedOrStored() => Verify(@"
    private CpuAccessScope? _scope;

    CpuAccessScope Open(DmaBuffer buf) => buf.CpuAccess(0, 4096, DmaDataDirection.FromDevice);

    CpuAccessScope Open2(DmaBuffer buf)
    {
        var scope = buf.CpuAccess(0, 4096, DmaDataDirection.FromDevice);
        return scope;
    }

    void Store(DmaBuffer buf)
    {
        _scope = buf.CpuAccess(0, 4096, DmaDataDirection.FromDevice);
    }

    void Pass(DmaBuffer buf, List<IDisposable> scopes)
    {
        scopes.Add(buf.CpuAccess(0, 4096, DmaDataDirection.FromDevice));
    }");

    [Fact]
    public Task Valid_LeavesCpuAccessOpenAttribute() => Verify(@"
    [LeavesCpuAccessOpen]
    void Open(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
    }

    [ClosesCpuAccess]
    void Close(DmaBuffer buf)
    {
        buf.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice);
    }");

    [Fact]
    public Task Valid_BufferHandedToAnotherMethod() => Verify(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        Finish(buf);
    }

    static void Finish(DmaBuffer buf) => buf.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice);");

    [Fact]
    public Task Valid_CallThatMayThrowIsNotAPath() => Verify(@"
    void M(DmaBuffer buf, byte[] data)
    {
        buf.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        Console.WriteLine(data[10]);
        buf.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice);
    }");

    [Fact]
    public Task Valid_LoopWithContinueAndSwitch() => Verify(@"
    void M(DmaBuffer buf, int[] modes)
    {
        foreach (int mode in modes)
        {
            buf.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
            switch (mode)
            {
                case 0:
                    buf.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice);
                    continue;
                default:
                    buf.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice);
                    break;
            }
        }
    }");

    [Fact]
    public Task Valid_LookAlikeTypes() => AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(LookAlike.Source + @"
class C
{
    void M(Fake.DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 4096, Fake.DmaDataDirection.ToDevice);
        var scope = buf.CpuAccess(0, 4096, Fake.DmaDataDirection.ToDevice);
    }
}");

    [Fact]
    public Task Valid_GeneratedCode() => AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync("// <auto-generated/>\n" + FlowTestCode.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
    }"));

    [Fact]
    public Task Valid_CodeThatDoesNotCompileYet() => Verify(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess({|CS0103:start|}, 4096, DmaDataDirection.ToDevice);
        buf.EndCpuAccess({|CS0103:start|}, 4096, DmaDataDirection.ToDevice);
        buf.{|CS1501:BeginCpuAccess|}();
        var page = buf.Kmap({|CS0103:p|});
        buf.Kunmap({|CS0103:p|}, page);
    }");

    [Fact]
    public Task Valid_LambdaEndsCapturedBuffer() => Verify(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        Action end = () => buf.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        end();
    }");

    [Fact]
    public Task Valid_CatchAllEndsAndRethrows() => Verify(@"
    void M(DmaBuffer buf, bool bad)
    {
        buf.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        try
        {
            if (bad)
                throw new InvalidOperationException();
        }
        catch
        {
            buf.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice);
            throw;
        }

        buf.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice);
    }");

    [Fact]
    public Task Valid_ReassignedReceiverIsUnknown() => Verify(@"
    void M(DmaBuffer a, DmaBuffer b)
    {
        var buf = a;
        buf.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        buf = b;
    }");

    [Fact]
    public Task Valid_PropertyChainReceiver() => Verify(@"
    sealed class Owner
    {
        public DmaBuffer Buffer { get; } = null!;
    }

    private readonly Owner _owner = new();

    void M()
    {
        _owner.Buffer.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        using (var page = _owner.Buffer.Kmap(0))
            Checksum(page.Span);
        _owner.Buffer.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
    }");

    [Fact]
    public Task Valid_ScopeDisposedBehindNullTests() => Verify(@"
    void M(DmaBuffer buf)
    {
        var scope = buf.CpuAccess(0, 4096, DmaDataDirection.FromDevice);
        if (scope != null)
            scope.Dispose();
    }

    void N(DmaBuffer buf)
    {
        CpuAccessScope scope = buf.CpuAccess(0, 4096, DmaDataDirection.FromDevice);
        try
        {
            Console.WriteLine();
        }
        finally
        {
            if (scope is not null)
                scope.Dispose();
        }
    }

    void O(DmaBuffer buf)
    {
        var scope = buf.CpuAccess(0, 4096, DmaDataDirection.FromDevice);
        if (scope is null)
            return;
        scope.Dispose();
    }");

    [Fact]
    public Task Valid_BoolFlagGuardsTheEnd() => Verify(@"
    void M(DmaBuffer buf, bool work)
    {
        bool begun = false;
        try
        {
            buf.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice);
            begun = true;
            if (work)
                throw new InvalidOperationException();
        }
        finally
        {
            if (begun)
                buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        }
    }

    void N(DmaBuffer buf, bool fill)
    {
        bool skip = !fill;
        if (fill)
            buf.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        bool open = fill;
        if (open)
            buf.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice);
    }");

    [Fact]
    public Task Valid_AsyncUsingScope() => Verify(@"
    async Task M(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, 4096, DmaDataDirection.FromDevice))
        {
            await Task.Yield();
        }
    }");

    // The whole-buffer access of the kernel's later API (BeginCpuAccess(direction)).
    [Fact]
    public Task WholeBuffer_NotEnded()
    {
        string source = FlowTestCode.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(DmaDataDirection.FromDevice);
    }");
        DiagnosticResult expected = new DiagnosticResult(RuleDescriptors.DMA0001)
            .WithSpan(13, 5, 13, 6)
            .WithSpan(12, 9, 12, 56)
            .WithArguments("buf", "the whole buffer, FromDevice", 12, "falls off the end at line 13");
        return AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(source, expected);
    }

    [Fact]
    public Task WholeBuffer_EndedOrScoped() => Verify(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(DmaDataDirection.FromDevice);
        buf.EndCpuAccess(DmaDataDirection.FromDevice);
        using (buf.CpuAccess(DmaDataDirection.ToDevice))
        {
        }

        using var scope = buf.CpuAccess(DmaDataDirection.Bidirectional);
    }");

    [Fact]
    public Task WholeBuffer_EarlyReturn() => Verify(@"
    int M(DmaBuffer buf, int i)
    {
        buf.BeginCpuAccess(DmaDataDirection.FromDevice);
        if (i < 0)
            {|DMA0001:return -1;|}
        buf.EndCpuAccess(DmaDataDirection.FromDevice);
        return 0;
    }");

    [Fact]
    public Task WholeBuffer_FailedBeginBegunNothing() => Verify(@"
    int M(DmaBuffer buf)
    {
        try
        {
            buf.BeginCpuAccess(DmaDataDirection.FromDevice);
        }
        catch (DmaBufException e)
        {
            return -e.Errno;
        }

        buf.EndCpuAccess(DmaDataDirection.FromDevice);
        return 0;
    }");

    [Fact]
    public Task WholeBuffer_RangedEndIsReportedOnce() => Verify(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(DmaDataDirection.FromDevice);
        {|DMA0002:buf.EndCpuAccess(0, buf.Size, DmaDataDirection.FromDevice)|};
    }");
}
