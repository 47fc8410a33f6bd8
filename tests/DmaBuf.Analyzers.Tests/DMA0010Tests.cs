// DMA0010: a reference taken with Export or Get and not put on some path out of the method, with its message and
// properties; references that escape (returned, stored, handed on, captured, put by a wrapper) stay silent.
using System.Collections.Immutable;
using System.Linq;
using System.Threading.Tasks;
using DmaBuf.Analyzers.Tests.Engine;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;

namespace DmaBuf.Analyzers.Tests;

// DMA0010: a buffer reference taken (DmaBuffer.Export, DmaBuffer.Get) and not put on some path out of the method, where
// it does not escape. Reported at the exit location (the return, the explicit throw, or the closing brace).
// Deliberately silent (precision first):
// - a reference that escapes: returned, stored in a field, property, array or collection, passed to a method or
//   constructor that may keep it (one of a library not known to keep nothing, a virtual one, or one of the
//   compilation whose body stores, returns, captures or passes it on), captured by a lambda or local function;
// - buffers that are parameters or fields: no reference is taken here;
// - a Put through a copy of the local (`var c = b; c.Put();`) puts the reference;
// - a Put in a finally covers every path; a reference taken in a loop and put in the same iteration is fine;
// - exceptions thrown by arbitrary calls are not paths, only an explicit throw is;
// - a buffer kept in a local of another type (`object o = ...`) escapes through it like through a DmaBuffer local; a
//   declaration pattern (`o is DmaBuffer d`) copies it into the declared local, which then holds it too.
// Correlated branches are followed (Engine/CorrelationTests), as for DMA0001.
// Where the spec is silent we chose: Fd() does not put the reference it is called on (the descriptor takes its own), so
// a buffer whose Fd() is returned still needs its Put.
public class DMA0010Tests
{
    private static Task Verify(string members) => AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(FlowTestCode.Class(members));

    [Fact]
    public Task ExportedAndNeverPut() => Verify(@"
    void M(DmaBufExporter exporter)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        b.Fd();
    {|DMA0010:}|}");

    [Fact]
    public Task MessageNamesBufferCallLineAndPath()
    {
        string source = FlowTestCode.Class(@"
    void M(DmaBufExporter exporter)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        var size = b.Size;
    }");
        // The usings take six lines and the class two: the Export is at line 12 and the closing brace at line 14.
        DiagnosticResult expected = new DiagnosticResult(RuleDescriptors.DMA0010)
            .WithSpan(14, 5, 14, 6)
            .WithSpan(12, 17, 12, 49)
            .WithArguments("b", "Export", 12, "falls off the end at line 14");
        return AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(source, expected);
    }

    [Fact]
    public Task MessageForADiscardedGetOnAReturningPath()
    {
        string source = FlowTestCode.Class(@"
    long M(int fd)
    {
        long size = DmaBuffer.Get(fd).Size;
        return size;
    }");
        DiagnosticResult expected = new DiagnosticResult(RuleDescriptors.DMA0010)
            .WithSpan(13, 9, 13, 21)
            .WithSpan(12, 21, 12, 38)
            .WithArguments("DmaBuffer.Get(fd)", "Get", 12, "returns at line 13");
        return AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(source, expected);
    }

    [Fact]
    public async Task PropertiesTellTheKindAndAdditionalLocationIsTheCall()
    {
        ImmutableArray<Diagnostic> diagnostics = await FlowDiagnostics.AnalyzeAsync(FlowTestCode.Class(@"
    void M(int fd)
    {
        var b = DmaBuffer.Get(fd);
        if (fd < 0)
            throw new ArgumentOutOfRangeException(nameof(fd));
    }"));
        Diagnostic[] reported = diagnostics.Where(d => d.Id == RuleDescriptors.DMA0010.Id).OrderBy(d => d.Location.SourceSpan.Start).ToArray();
        Assert.Equal(2, reported.Length);
        Assert.All(reported, d => Assert.Equal("NotPut", d.Properties.TryGetValue("Kind", out string? kind) ? kind : null));
        Assert.All(reported, d => Assert.Equal("DmaBuffer.Get(fd)", FlowDiagnostics.AdditionalText(d)));
        Assert.Equal(new[] { "throw new ArgumentOutOfRangeException(nameof(fd));", "}" }, reported.Select(d => FlowDiagnostics.Text(d.Location)));
        Assert.DoesNotContain(diagnostics, d => d.Id != RuleDescriptors.DMA0010.Id);
    }

    [Fact]
    public Task GetAndNeverPut() => Verify(@"
    long M(int fd)
    {
        var b = DmaBuffer.Get(fd);
        var size = b.Size;
        {|DMA0010:return size;|}
    }");

    [Fact]
    public Task DiscardedResult() => Verify(@"
    int M(DmaBufExporter exporter)
    {
        int fd = DmaBuffer.Export(exporter, 4096).Fd();
        {|DMA0010:return fd;|}
    }

    void N()
    {
        DmaBuffer.Export(new SystemHeapExporter(), 4096);
    {|DMA0010:}|}");

    [Fact]
    public Task EarlyReturn() => Verify(@"
    int M(DmaBufExporter exporter, Device dev)
    {
        var b = DmaBuffer.Export(exporter, 8192);
        if (dev.Name.Length == 0)
            {|DMA0010:return -1;|}
        int fd = b.Fd();
        b.Put();
        return fd;
    }");

    [Fact]
    public Task ExplicitThrow() => Verify(@"
    void M(int fd, long needed)
    {
        var b = DmaBuffer.Get(fd);
        if (b.Size < needed)
            {|DMA0010:throw new ArgumentOutOfRangeException(nameof(needed));|}
        b.Put();
    }");

    [Fact]
    public Task PutOnOneBranchOnly() => Verify(@"
    void M(DmaBufExporter exporter, bool done)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        if (done)
        {
            b.Put();
        }
        else
        {
            var size = b.Size;
        }
    {|DMA0010:}|}");

    [Fact]
    public Task TakenInALoopAndNeverPut() => Verify(@"
    void M(int[] fds)
    {
        foreach (int fd in fds)
        {
            var b = DmaBuffer.Get(fd);
            var size = b.Size;
        }
    {|DMA0010:}|}");

    [Fact]
    public Task PutOnlyInTheTryWithAThrowingPath() => Verify(@"
    void M(DmaBufExporter exporter, int n)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        bool tried = false;
        try
        {
            if (n < 0)
                {|DMA0010:throw new ArgumentOutOfRangeException(nameof(n));|}
            b.Put();
        }
        finally
        {
            tried = true;
        }
    }");

    [Fact]
    public Task SwitchArmForgetsPut() => Verify(@"
    void M(int fd, int mode)
    {
        var b = DmaBuffer.Get(fd);
        switch (mode)
        {
            case 0:
                b.Put();
                break;
            case 1:
                {|DMA0010:return;|}
            default:
                b.Put();
                break;
        }
    }");

    [Fact]
    public Task CopyOfTheLocalNeverPut() => Verify(@"
    void M(DmaBufExporter exporter)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        var c = b;
        var size = c.Size;
    {|DMA0010:}|}");

    [Fact]
    public Task LocalOverwrittenBeforeThePut() => Verify(@"
    void M(DmaBufExporter exporter)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        b = DmaBuffer.Export(exporter, 8192);
        b.Put();
    {|DMA0010:}|}");

    [Fact]
    public Task AttachedAndDetachedButNeverPut() => Verify(@"
    void M(Device dev)
    {
        var b = DmaBuffer.Export(new SystemHeapExporter(), 4096);
        var att = b.Attach(dev);
        var t = b.MapAttachment(att, DmaDataDirection.ToDevice);
        b.UnmapAttachment(att, t);
        b.Detach(att);
    {|DMA0010:}|}");

    [Fact]
    public Task LambdaAndLocalFunctionLeak() => Verify(@"
    void M(DmaBufExporter exporter)
    {
        Take(3);
        Func<int, long> take = fd =>
        {
            var b = DmaBuffer.Get(fd);
            {|DMA0010:return b.Size;|}
        };
        Use(take);

        static void Take(int fd)
        {
            var b = DmaBuffer.Get(fd);
        {|DMA0010:}|}
    }");

    [Fact]
    public Task AsyncMethodLeak() => Verify(@"
    async Task M(DmaBufExporter exporter)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        await Task.Yield();
    {|DMA0010:}|}");

    // ---- Valid ----------------------------------------------------------------------------------------------------

    [Fact]
    public Task Valid_DesignExamples() => Verify(FlowTestCode.DesignExamples);

    [Fact]
    public Task Valid_ExportedAndPut() => Verify(@"
    int M(DmaBufExporter exporter)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        int fd = b.Fd();
        b.Put();
        return fd;
    }");

    [Fact]
    public Task Valid_PutInFinallyWithReturnAndThrow() => Verify(@"
    long M(int fd, long needed)
    {
        var b = DmaBuffer.Get(fd);
        try
        {
            if (b.Size < needed)
                throw new ArgumentOutOfRangeException(nameof(needed));
            if (needed == 0)
                return 0;
            return b.Size;
        }
        finally
        {
            b.Put();
        }
    }");

    [Fact]
    public Task Valid_Returned() => Verify(@"
    DmaBuffer Direct(DmaBufExporter exporter) => DmaBuffer.Export(exporter, 4096);

    DmaBuffer FromLocal(int fd)
    {
        var b = DmaBuffer.Get(fd);
        if (b.Size == 0)
            return b;
        var att = b.Attach(new Device(""gpu""));
        b.Detach(att);
        return b;
    }");

    [Fact]
    public Task Valid_StoredInFieldPropertyArrayOrCollection() => Verify(@"
    private DmaBuffer _buf;
    private DmaBuffer[] _bufs = new DmaBuffer[1];
    public DmaBuffer Current { get; set; }

    void Field(DmaBufExporter exporter)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        _buf = b;
    }

    void Property(int fd) => Current = DmaBuffer.Get(fd);

    void Array(int fd) => _bufs[0] = DmaBuffer.Get(fd);

    void Collection(int fd, List<DmaBuffer> buffers)
    {
        var b = DmaBuffer.Get(fd);
        buffers.Add(b);
    }");

    [Fact]
    public Task Valid_HandedToAnotherMethodOrConstructor() => Verify(@"
    sealed class Owner
    {
        public Owner(DmaBuffer buffer) => Buffer = buffer;

        public DmaBuffer Buffer { get; }
    }

    void Passed(DmaBufExporter exporter)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        Keep(b);
    }

    Owner Constructed(int fd)
    {
        var b = DmaBuffer.Get(fd);
        var owner = new Owner(b);
        return owner;
    }

    void Discarded(int fd) => Keep(DmaBuffer.Get(fd));

    static void Keep(DmaBuffer buffer) => s_kept.Add(buffer);
    static readonly List<DmaBuffer> s_kept = new();");

    [Fact]
    public Task Valid_CapturedByALambdaOrLocalFunction() => Verify(@"
    Action Lambda(DmaBufExporter exporter)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        return () => b.Put();
    }

    void LocalFunction(int fd)
    {
        var b = DmaBuffer.Get(fd);
        Release();

        void Release() => b.Put();
    }");

    [Fact]
    public Task Valid_LoopPutsInEachIteration() => Verify(@"
    void M(int[] fds, DmaBufExporter exporter)
    {
        foreach (int fd in fds)
        {
            var b = DmaBuffer.Get(fd);
            var size = b.Size;
            b.Put();
        }

        for (int i = 0; i < fds.Length; i++)
        {
            var b = DmaBuffer.Export(exporter, 4096);
            try
            {
                fds[i] = b.Fd();
            }
            finally
            {
                b.Put();
            }
        }
    }");

    [Fact]
    public Task Valid_PutThroughACopy() => Verify(@"
    void M(DmaBufExporter exporter)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        var c = b;
        var size = b.Size;
        c.Put();
    }");

    [Fact]
    public Task Valid_ParametersAndFieldsTakeNoReference() => Verify(@"
    private DmaBuffer _buf;

    void Parameter(DmaBuffer buf, Device dev)
    {
        var att = buf.Attach(dev);
        buf.Detach(att);
        buf.Put();
    }

    long Field() => _buf.Size;");

    [Fact]
    public Task Valid_EarlyReturnPutsOnEveryPath() => Verify(@"
    int M(DmaBufExporter exporter, bool skip)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        if (skip)
        {
            b.Put();
            return -1;
        }

        int fd = b.Fd();
        b.Put();
        return fd;
    }");

    [Fact]
    public Task Valid_PutOnBothBranches() => Verify(@"
    void M(int fd, bool attach, Device dev)
    {
        var b = DmaBuffer.Get(fd);
        if (attach)
        {
            var att = b.Attach(dev);
            b.Detach(att);
            b.Put();
        }
        else
        {
            b.Put();
        }
    }");

    [Fact]
    public Task Valid_ReassignedAfterThePut() => Verify(@"
    void M(DmaBufExporter exporter)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        b.Put();
        b = DmaBuffer.Export(exporter, 8192);
        b.Put();
    }");

    [Fact]
    public Task Valid_CallThatMayThrowIsNotAPath() => Verify(@"
    void M(int fd, byte[] data)
    {
        var b = DmaBuffer.Get(fd);
        data.CopyTo(new byte[data.Length], 0);
        b.Put();
    }");

    [Fact]
    public Task Valid_ConditionalPutInFinally() => Verify(@"
    long M(int fd)
    {
        DmaBuffer? b = null;
        try
        {
            b = DmaBuffer.Get(fd);
            return b.Size;
        }
        finally
        {
            b?.Put();
        }
    }");

    [Fact]
    public Task Valid_NullCheckedPutInFinally() => Verify(@"
    long M(int fd)
    {
        DmaBuffer? b = null;
        try
        {
            b = DmaBuffer.Get(fd);
            return b.Size;
        }
        finally
        {
            if (b != null)
                b.Put();
        }
    }");

    [Fact]
    public Task Valid_TransferredFlagDecidesThePut() => Verify(@"
    void M(int fd, System.Collections.Generic.List<DmaBuffer> list)
    {
        var b = DmaBuffer.Get(fd);
        bool transferred = false;
        try
        {
            if (b.Size > 0)
            {
                list.Add(b);
                transferred = true;
            }
        }
        finally
        {
            if (!transferred)
                b.Put();
        }
    }");

    [Fact]
    public Task Valid_CorrelatedUnwrittenParameter() => Verify(@"
    void M(int fd, bool keep)
    {
        var b = DmaBuffer.Get(fd);
        if (keep)
            Keep(b);
        if (!keep)
            b.Put();
    }
    static void Keep(DmaBuffer b) => s_kept.Add(b);
    static readonly List<DmaBuffer> s_kept = new();");

    [Fact]
    public Task Valid_KeptInAnObjectLocalAndReturned() => Verify(@"
    object M(DmaBufExporter exporter)
    {
        object o = DmaBuffer.Export(exporter, 4096);
        return o;
    }");

    [Fact]
    public Task Valid_CopiedByADeclarationPattern() => Verify(@"
    void M(int fd)
    {
        object o = DmaBuffer.Get(fd);
        if (o is DmaBuffer d)
            d.Put();
    }");

    [Fact]
    public Task Valid_CopiedByASwitchCasePattern() => Verify(@"
    long M(int fd)
    {
        object o = DmaBuffer.Get(fd);
        switch (o)
        {
            case DmaBuffer d:
                long s = d.Size;
                d.Put();
                return s;
            default:
                return 0;
        }
    }");

    [Fact]
    public Task Valid_ReturnedInATuple() => Verify(@"
    (DmaBuffer, long) M(int fd)
    {
        var b = DmaBuffer.Get(fd);
        return (b, b.Size);
    }");

    [Fact]
    public Task Valid_HandedOutThroughAnOutParameter() => Verify(@"
    bool M(int fd, out DmaBuffer? result)
    {
        var b = DmaBuffer.Get(fd);
        if (b.Size == 0)
        {
            b.Put();
            result = null;
            return false;
        }
        result = b;
        return true;
    }");

    [Fact]
    public Task Valid_PutInFinallyAcrossAnAwait() => Verify(@"
    async System.Threading.Tasks.Task<long> M(int fd)
    {
        var b = DmaBuffer.Get(fd);
        try
        {
            await System.Threading.Tasks.Task.Yield();
            return b.Size;
        }
        finally
        {
            b.Put();
        }
    }");

    [Fact]
    public Task Valid_TakenInAForeachAndPutInItsFinally() => Verify(@"
    long M(int[] fds)
    {
        long sum = 0;
        foreach (int fd in fds)
        {
            var b = DmaBuffer.Get(fd);
            try
            {
                sum += b.Size switch { > 4096 => 2, _ => 1 };
            }
            finally
            {
                b.Put();
            }
        }
        return sum;
    }");

    [Fact]
    public Task Valid_PutInACatchThatRethrowsAndReturnedOtherwise() => Verify(@"
    DmaBuffer M(int fd)
    {
        var b = DmaBuffer.Get(fd);
        try
        {
            if (b.Size == 0) throw new System.InvalidOperationException();
            return b;
        }
        catch
        {
            b.Put();
            throw;
        }
    }");

    [Fact]
    public Task Valid_StoredInAFieldOfAStructLocalThatIsReturned() => Verify(@"
    struct Holder { public DmaBuffer Buffer; }
    Holder M(int fd)
    {
        var h = new Holder();
        h.Buffer = DmaBuffer.Get(fd);
        return h;
    }");

    [Fact]
    public Task Valid_StoredByAnObjectInitializer() => Verify(@"
    sealed class Box { public DmaBuffer? Buffer { get; set; } }
    Box M(int fd) => new Box { Buffer = DmaBuffer.Get(fd) };");

    [Fact]
    public Task Valid_ReturnedByAnExpressionBody() => Verify(@"
    DmaBuffer M(int fd) => DmaBuffer.Get(fd);");

    [Fact]
    public Task Valid_YieldReturned() => Verify(@"
    System.Collections.Generic.IEnumerable<DmaBuffer> M(int[] fds)
    {
        foreach (int fd in fds)
            yield return DmaBuffer.Get(fd);
    }");

    [Fact]
    public Task Valid_EitherArmOfAConditionalIsPut() => Verify(@"
    void M(int fd, bool a)
    {
        var b = a ? DmaBuffer.Get(fd) : DmaBuffer.Get(fd + 1);
        b.Put();
    }");

    [Fact]
    public Task Valid_CachedByACoalescingAssignment() => Verify(@"
    DmaBuffer? _cached;
    DmaBuffer M(int fd)
    {
        return _cached ??= DmaBuffer.Get(fd);
    }");

    [Fact]
    public Task Valid_PutByALambdaHandedToTaskRun() => Verify(@"
    System.Threading.Tasks.Task M(int fd)
    {
        var b = DmaBuffer.Get(fd);
        return System.Threading.Tasks.Task.Run(() => b.Put());
    }");

    [Fact]
    public Task Valid_HandedToAWrapperThatPutsItOnDispose() => Verify(@"
    sealed class Lease : System.IDisposable { public Lease(DmaBuffer b) => B = b; public DmaBuffer B { get; } public void Dispose() => B.Put(); }
    long M(int fd)
    {
        using var lease = new Lease(DmaBuffer.Get(fd));
        return lease.B.Size;
    }");

    [Fact]
    public Task Valid_StoredInADictionaryField() => Verify(@"
    System.Collections.Generic.Dictionary<int, DmaBuffer> _map = new();
    void M(int fd)
    {
        var b = DmaBuffer.Get(fd);
        _map[fd] = b;
    }");

    [Fact]
    public Task Valid_ReturnedByASwitchExpressionArm() => Verify(@"
    DmaBuffer? M(int fd, int kind) => kind switch
    {
        0 => null,
        _ => DmaBuffer.Get(fd),
    };");
}
