// DMA0009: a table mapped and not unmapped on some path, unmapped through another attachment's table, or detached while
// mapped, with each kind's message and properties; tables that escape or the method cannot see stay silent.
using System.Collections.Immutable;
using System.Linq;
using System.Threading.Tasks;
using DmaBuf.Analyzers.Tests.Engine;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;

namespace DmaBuf.Analyzers.Tests;

// DMA0009: an attachment mapped and not unmapped on some path (Kind=NotUnmapped, at the exit), unmapped with the table
// of another attachment (Kind=OtherTable, on the UnmapAttachment) or detached while still mapped (Kind=DetachWhileMapped,
// on the Detach).
// Deliberately silent (precision first):
// - a table that escapes: returned, stored in a field or collection, passed to a method or a constructor, captured by a
//   lambda or local function (Device.DmaRead/DmaWrite do NOT make a table escape: those are still reported);
// - an unmap of a table the method cannot see (a parameter, a field);
// - attachments that are not stable locals (parameters, fields, reassigned locals, copies of another local) are never
//   called "another attachment";
// - an attachment never detached is not this rule's business;
// - exceptions thrown by arbitrary calls are not paths, only an explicit throw is.
// Where the spec is silent we chose the precise behaviour (one report per mistake):
// - a table unmapped through another attachment counts as unmapped (like DMA0003's "another mapping"), so it is not
//   reported a second time at the exit;
// - a table whose result is discarded (`buf.MapAttachment(att, dir);`) is not tested here.
// The buffers are parameters, so that DMA0010 (no reference taken here) stays silent.
public class DMA0009Tests
{
    private static Task Verify(string members) => AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(FlowTestCode.Class(members));

    [Fact]
    public Task MappedAndNeverUnmapped() => Verify(@"
    void M(DmaBuffer buf, byte[] data)
    {
        var dev = new Device(""gpu"");
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        dev.DmaWrite(t, 0, data);
    {|DMA0009:}|}");

    [Fact]
    public Task MessageNamesAttachmentLineAndPath()
    {
        string source = FlowTestCode.Class(@"
    void M(DmaBuffer buf, Device dev, byte[] data)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        dev.DmaWrite(t, 0, data);
    }");
        // The usings take six lines and the class two: the MapAttachment is at line 13 and the closing brace at line 15.
        DiagnosticResult expected = new DiagnosticResult(RuleDescriptors.DMA0009)
            .WithSpan(15, 5, 15, 6)
            .WithSpan(13, 17, 13, 66)
            .WithArguments("att", 13, "is not unmapped on the path that falls off the end at line 15");
        return AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(source, expected);
    }

    [Fact]
    public Task MessageForOtherTable()
    {
        string source = FlowTestCode.Class(@"
    void M(DmaBuffer buf, Device dev)
    {
        var a1 = buf.Attach(dev);
        var a2 = buf.Attach(dev);
        var t1 = buf.MapAttachment(a1, DmaDataDirection.ToDevice);
        buf.UnmapAttachment(a2, t1);
    }");
        DiagnosticResult expected = new DiagnosticResult(RuleDescriptors.DMA0009)
            .WithSpan(15, 9, 15, 36)
            .WithSpan(14, 18, 14, 66)
            .WithArguments("a1", 14, "is unmapped through another attachment, 'a2'");
        return AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(source, expected);
    }

    [Fact]
    public Task MessageForDetachWhileMapped()
    {
        string source = FlowTestCode.Class(@"
    void M(DmaBuffer buf, Device dev)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.FromDevice);
        buf.Detach(att);
    }");
        DiagnosticResult expected = new DiagnosticResult(RuleDescriptors.DMA0009)
            .WithSpan(14, 9, 14, 24)
            .WithSpan(13, 17, 13, 68)
            .WithArguments("att", 13, "is still mapped when 'att' is detached");
        return AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(source, expected);
    }

    [Fact]
    public async Task PropertiesTellTheKindAndAdditionalLocationIsTheMapAttachment()
    {
        ImmutableArray<Diagnostic> diagnostics = await FlowDiagnostics.AnalyzeAsync(FlowTestCode.Class(@"
    void NotUnmapped(DmaBuffer buf, Device dev)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
    }

    void OtherTable(DmaBuffer buf, Device dev)
    {
        var a1 = buf.Attach(dev);
        var a2 = buf.Attach(dev);
        var t1 = buf.MapAttachment(a1, DmaDataDirection.Bidirectional);
        buf.UnmapAttachment(a2, t1);
    }

    void DetachWhileMapped(DmaBuffer buf, Device dev)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.FromDevice);
        buf.Detach(att);
    }"));
        Diagnostic[] reported = diagnostics.Where(d => d.Id == RuleDescriptors.DMA0009.Id).OrderBy(d => d.Location.SourceSpan.Start).ToArray();
        Assert.Equal(3, reported.Length);
        Assert.Equal(new[] { "NotUnmapped", "OtherTable", "DetachWhileMapped" }, reported.Select(d => d.Properties.TryGetValue("Kind", out string? kind) ? kind : null));
        Assert.Equal(
            new[]
            {
                "buf.MapAttachment(att, DmaDataDirection.ToDevice)",
                "buf.MapAttachment(a1, DmaDataDirection.Bidirectional)",
                "buf.MapAttachment(att, DmaDataDirection.FromDevice)",
            },
            reported.Select(d => FlowDiagnostics.AdditionalText(d)));
        Assert.Equal(new[] { "}", "buf.UnmapAttachment(a2, t1)", "buf.Detach(att)" }, reported.Select(d => FlowDiagnostics.Text(d.Location)));
        Assert.DoesNotContain(diagnostics, d => d.Id != RuleDescriptors.DMA0009.Id);
    }

    [Fact]
    public Task ReadByTheDeviceAndNeverUnmapped() => Verify(@"
    void M(DmaBuffer buf, Device dev, byte[] into)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.FromDevice);
        dev.DmaRead(t, 0, into);
        dev.DmaRead(t, 4096, into);
    {|DMA0009:}|}");

    [Fact]
    public Task EarlyReturn() => Verify(@"
    int M(DmaBuffer buf, Device dev, byte[] data)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        if (data.Length == 0)
            {|DMA0009:return -1;|}
        dev.DmaWrite(t, 0, data);
        buf.UnmapAttachment(att, t);
        buf.Detach(att);
        return data.Length;
    }");

    [Fact]
    public Task ExplicitThrow() => Verify(@"
    void M(DmaBuffer buf, Device dev, byte[] data)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        if (data.Length > t.TotalLength)
            {|DMA0009:throw new ArgumentException(""too long"", nameof(data));|}
        dev.DmaWrite(t, 0, data);
        buf.UnmapAttachment(att, t);
    }");

    [Fact]
    public Task UnmappedOnOneBranchOnly() => Verify(@"
    void M(DmaBuffer buf, Device dev, bool done)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        if (done)
        {
            buf.UnmapAttachment(att, t);
        }
        else
        {
            Use(dev);
        }
    {|DMA0009:}|}");

    [Fact]
    public Task MappedInALoopAndNeverUnmapped() => Verify(@"
    void M(DmaBuffer buf, Device dev, int n)
    {
        var att = buf.Attach(dev);
        for (int i = 0; i < n; i++)
        {
            var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
            dev.DmaWrite(t, 0, new byte[16]);
        }
    {|DMA0009:}|}");

    [Fact]
    public Task UnmappedOnlyInTheTryWithAThrowingPath() => Verify(@"
    void M(DmaBuffer buf, Device dev, byte[] data)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        try
        {
            if (data.Length == 0)
                {|DMA0009:throw new ArgumentException(""empty"", nameof(data));|}
            dev.DmaWrite(t, 0, data);
            buf.UnmapAttachment(att, t);
        }
        finally
        {
            Use(dev);
        }
    }");

    [Fact]
    public Task SwitchArmForgetsUnmap() => Verify(@"
    void M(DmaBuffer buf, Device dev, int mode)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.Bidirectional);
        switch (mode)
        {
            case 0:
                buf.UnmapAttachment(att, t);
                break;
            case 1:
                {|DMA0009:return;|}
            default:
                buf.UnmapAttachment(att, t);
                break;
        }
    }");

    [Fact]
    public Task CopyOfTheTableNeverUnmapped() => Verify(@"
    void M(DmaBuffer buf, Device dev, byte[] data)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        var copy = t;
        dev.DmaWrite(copy, 0, data);
    {|DMA0009:}|}");

    [Fact]
    public Task TableOverwrittenBeforeTheUnmap() => Verify(@"
    void M(DmaBuffer buf, Device dev)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        t = buf.MapAttachment(att, DmaDataDirection.FromDevice);
        buf.UnmapAttachment(att, t);
    {|DMA0009:}|}");

    [Fact]
    public Task UnmappedThroughAnotherAttachment() => Verify(@"
    void M(DmaBuffer buf)
    {
        var a1 = buf.Attach(new Device(""gpu""));
        var a2 = buf.Attach(new Device(""isp""));
        var t1 = buf.MapAttachment(a1, DmaDataDirection.ToDevice);
        var t2 = buf.MapAttachment(a2, DmaDataDirection.FromDevice);
        {|DMA0009:buf.UnmapAttachment(a2, t1)|};
        {|DMA0009:buf.UnmapAttachment(a1, t2)|};
        buf.Detach(a1);
        buf.Detach(a2);
    }");

    [Fact]
    public Task DetachedWhileMapped() => Verify(@"
    void M(DmaBuffer buf, Device dev, byte[] data)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        dev.DmaWrite(t, 0, data);
        {|DMA0009:buf.Detach(att)|};
    }");

    [Fact]
    public Task DetachedWhileMappedOnOnePath() => Verify(@"
    void M(DmaBuffer buf, Device dev, bool unmap)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        if (unmap)
            buf.UnmapAttachment(att, t);
        {|DMA0009:buf.Detach(att)|};
    }");

    [Fact]
    public Task LambdaAndLocalFunctionLeak() => Verify(@"
    void M(DmaBuffer buf, Device dev)
    {
        Map(buf, dev);
        Action<DmaBufAttachment> map = a =>
        {
            var q = buf.MapAttachment(a, DmaDataDirection.ToDevice);
            dev.DmaWrite(q, 0, new byte[1]);
        {|DMA0009:}|};
        Use(map);

        static void Map(DmaBuffer b, Device d)
        {
            var a = b.Attach(d);
            var t = b.MapAttachment(a, DmaDataDirection.ToDevice);
        {|DMA0009:}|}
    }");

    [Fact]
    public Task AsyncMethodLeak() => Verify(@"
    async Task M(DmaBuffer buf, Device dev)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        await Task.Yield();
    {|DMA0009:}|}");

    // ---- Valid ----------------------------------------------------------------------------------------------------

    [Fact]
    public Task Valid_DesignExamples() => Verify(FlowTestCode.DesignExamples);

    [Fact]
    public Task Valid_MapUnmapDetachInOrder() => Verify(@"
    void M(DmaBuffer buf, byte[] data)
    {
        var dev = new Device(""gpu"");
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        dev.DmaWrite(t, 0, data);
        buf.UnmapAttachment(att, t);
        buf.Detach(att);
    }");

    [Fact]
    public Task Valid_UnmapInFinallyWithReturnAndThrow() => Verify(@"
    int M(DmaBuffer buf, Device dev, byte[] data)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        try
        {
            if (data.Length == 0)
                throw new ArgumentException(""empty"", nameof(data));
            if (data.Length == 1)
                return 1;
            dev.DmaWrite(t, 0, data);
            return data.Length;
        }
        finally
        {
            buf.UnmapAttachment(att, t);
            buf.Detach(att);
        }
    }");

    [Fact]
    public Task Valid_TableReturned() => Verify(@"
    ScatterGatherTable Returned(DmaBuffer buf, DmaBufAttachment att) => buf.MapAttachment(att, DmaDataDirection.ToDevice);

    ScatterGatherTable ReturnedFromLocal(DmaBuffer buf, Device dev)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        dev.DmaWrite(t, 0, new byte[1]);
        return t;
    }");

    [Fact]
    public Task Valid_TableStoredInFieldOrCollection() => Verify(@"
    private ScatterGatherTable _table;
    private ScatterGatherTable[] _tables = new ScatterGatherTable[1];

    void Field(DmaBuffer buf, Device dev)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        _table = t;
    }

    void Array(DmaBuffer buf, DmaBufAttachment att) => _tables[0] = buf.MapAttachment(att, DmaDataDirection.ToDevice);

    void Collected(DmaBuffer buf, DmaBufAttachment att, List<ScatterGatherTable> tables)
    {
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        tables.Add(t);
    }");

    [Fact]
    public Task Valid_TablePassedToAMethodOrAConstructor() => Verify(@"
    sealed class Holder
    {
        public Holder(ScatterGatherTable table) => Table = table;

        public ScatterGatherTable Table { get; }
    }

    Holder Constructed(DmaBuffer buf, Device dev)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        var h = new Holder(t);
        return h;
    }

    void Passed(DmaBuffer buf, Device dev)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        Use(t);
    }");

    [Fact]
    public Task Valid_TableCapturedByALambdaOrLocalFunction() => Verify(@"
    Action Lambda(DmaBuffer buf, Device dev)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        return () => buf.UnmapAttachment(att, t);
    }

    void LocalFunction(DmaBuffer buf, Device dev)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        Unmap();

        void Unmap() => buf.UnmapAttachment(att, t);
    }");

    [Fact]
    public Task Valid_LoopUnmapsEachIteration() => Verify(@"
    void M(DmaBuffer buf, Device dev, int n)
    {
        var att = buf.Attach(dev);
        for (int i = 0; i < n; i++)
        {
            var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
            dev.DmaWrite(t, 0, new byte[16]);
            buf.UnmapAttachment(att, t);
        }

        buf.Detach(att);
    }");

    [Fact]
    public Task Valid_UnmappedThroughCopies() => Verify(@"
    void M(DmaBuffer buf, Device dev)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        var table = t;
        var same = att;
        buf.UnmapAttachment(same, table);
        buf.Detach(att);
    }");

    [Fact]
    public Task Valid_UnmapOfATableTheMethodCannotSee() => Verify(@"
    private ScatterGatherTable _table;

    void Parameter(DmaBuffer buf, DmaBufAttachment att, ScatterGatherTable table)
    {
        buf.UnmapAttachment(att, table);
        buf.Detach(att);
    }

    void Field(DmaBuffer buf, Device dev)
    {
        var att = buf.Attach(dev);
        buf.UnmapAttachment(att, _table);
        buf.Detach(att);
    }");

    [Fact]
    public Task Valid_UnstableAttachmentsAreNeverAnotherAttachment() => Verify(@"
    private DmaBufAttachment _att;

    void Parameters(DmaBuffer buf, DmaBufAttachment a1, DmaBufAttachment a2)
    {
        var t = buf.MapAttachment(a1, DmaDataDirection.ToDevice);
        buf.UnmapAttachment(a2, t);
    }

    void Field(DmaBuffer buf, Device dev)
    {
        var a1 = buf.Attach(dev);
        var t = buf.MapAttachment(a1, DmaDataDirection.ToDevice);
        buf.UnmapAttachment(_att, t);
    }

    void Reassigned(DmaBuffer buf, Device dev)
    {
        var a1 = buf.Attach(dev);
        var a2 = buf.Attach(dev);
        var t = buf.MapAttachment(a1, DmaDataDirection.ToDevice);
        a2 = a1;
        buf.UnmapAttachment(a2, t);
    }");

    [Fact]
    public Task Valid_AttachmentNeverDetached() => Verify(@"
    void M(DmaBuffer buf, Device dev)
    {
        var a1 = buf.Attach(dev);
        var a2 = buf.Attach(dev);
        var t1 = buf.MapAttachment(a1, DmaDataDirection.ToDevice);
        var t2 = buf.MapAttachment(a2, DmaDataDirection.ToDevice);
        buf.UnmapAttachment(a2, t2);
        buf.UnmapAttachment(a1, t1);
    }");

    [Fact]
    public Task Valid_EarlyReturnUnmapsOnEveryPath() => Verify(@"
    int M(DmaBuffer buf, Device dev, byte[] data)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        if (data.Length == 0)
        {
            buf.UnmapAttachment(att, t);
            buf.Detach(att);
            return 0;
        }

        dev.DmaWrite(t, 0, data);
        buf.UnmapAttachment(att, t);
        buf.Detach(att);
        return data.Length;
    }");

    [Fact]
    public Task Valid_UnmappedOnBothBranches() => Verify(@"
    void M(DmaBuffer buf, Device dev, bool write, byte[] data)
    {
        var att = buf.Attach(dev);
        if (write)
        {
            var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
            dev.DmaWrite(t, 0, data);
            buf.UnmapAttachment(att, t);
        }
        else
        {
            var t = buf.MapAttachment(att, DmaDataDirection.FromDevice);
            dev.DmaRead(t, 0, data);
            buf.UnmapAttachment(att, t);
        }

        buf.Detach(att);
    }");

    [Fact]
    public Task Valid_CallThatMayThrowIsNotAPath() => Verify(@"
    void M(DmaBuffer buf, Device dev, byte[] data)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        dev.DmaWrite(t, 0, data);
        data.CopyTo(new byte[data.Length], 0);
        buf.UnmapAttachment(att, t);
        buf.Detach(att);
    }");

    [Fact]
    public Task Valid_TwoAttachmentsEachWithItsOwnTable() => Verify(@"
    void M(DmaBuffer buf)
    {
        var a1 = buf.Attach(new Device(""gpu""));
        var a2 = buf.Attach(new Device(""isp""));
        var t1 = buf.MapAttachment(a1, DmaDataDirection.ToDevice);
        var t2 = buf.MapAttachment(a2, DmaDataDirection.FromDevice);
        buf.UnmapAttachment(a1, t1);
        buf.Detach(a1);
        buf.UnmapAttachment(a2, t2);
        buf.Detach(a2);
    }");

    [Fact]
    public Task Valid_NestedTryFinallyUnmapsThenDetaches() => Verify(@"
    void M(DmaBuffer buf, Device dev)
    {
        var att = buf.Attach(dev);
        try
        {
            var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
            try
            {
                _ = t.Entries.Count;
            }
            finally
            {
                buf.UnmapAttachment(att, t);
            }
        }
        finally
        {
            buf.Detach(att);
        }
    }");

    [Fact]
    public Task Valid_TableKeptInAnObjectLocalAndReturned() => Verify(@"
    object M(DmaBuffer buf, DmaBufAttachment att)
    {
        object t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        return t;
    }");

    [Fact]
    public Task Valid_TableStoredInAList() => Verify(@"
    void M(DmaBuffer buf, DmaBufAttachment att, System.Collections.Generic.List<ScatterGatherTable> keep)
    {
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        keep.Add(t);
    }");

    [Fact]
    public Task Valid_UnmapAndDetachThroughACopyOfTheAttachment() => Verify(@"
    void M(DmaBuffer buf, Device dev)
    {
        var att = buf.Attach(dev);
        var same = att;
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        buf.UnmapAttachment(same, t);
        buf.Detach(same);
    }");

    // The continue leaves the iteration's table mapped; the loop then ends and the method falls off the end.
    [Fact]
    public Task ContinueInALoopSkipsTheUnmap() => Verify(@"
    void M(DmaBuffer buf, DmaBufAttachment att, int n)
    {
        for (int i = 0; i < n; i++)
        {
            var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
            if (t.Entries.Count == 0)
                continue;
            buf.UnmapAttachment(att, t);
        }
    {|DMA0009:}|}");

    [Fact]
    public Task Valid_TableHandedToAHelper() => Verify(@"
    void M(DmaBuffer buf, DmaBufAttachment att)
    {
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        Program(t);
    }
    static void Program(ScatterGatherTable t) => s_programmed = t;
    static ScatterGatherTable? s_programmed;");
}
