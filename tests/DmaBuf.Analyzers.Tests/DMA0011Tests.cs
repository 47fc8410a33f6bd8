// DMA0011: a buffer used after the code's own Put of its reference, or detached through another buffer's attachment,
// with messages and properties; reassignment, reads that only look at the variable and buffers that may be the same
// stay silent.
using System.Collections.Immutable;
using System.Linq;
using System.Threading.Tasks;
using DmaBuf.Analyzers.Tests.Engine;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;

namespace DmaBuf.Analyzers.Tests;

// DMA0011: a buffer used after the code's own Put of the reference it holds, on some path (Kind=UseAfterPut, at the
// reference expression), or a Detach of an attachment that belongs to another buffer (Kind=ForeignDetach, on the Detach
// invocation). After its Put a variable owns no reference, whether or not other references remain (a descriptor, a
// copy handed away): a local, a parameter, a field or property chain alike (DESIGN §3).
// Deliberately silent (precision first):
// - assigning the variable after the Put (`b = DmaBuffer.Export(...)`), and reads of the new value;
// - reads that look only at the variable: null and reference comparisons, type tests, ReferenceEquals, nameof, an
//   interpolation, object's members (ToString), and IsReleased/ReferenceCount, which exist to be read after the put;
// - a Detach where the two buffer locals may be the same buffer (a copy, a reassigned local, a parameter, a Get), or
//   the attachment is not a local written once.
// Where the spec is silent we chose: a read inside a lambda created after the Put is not tested; Kmap after the Put is
// not used here, since on a buffer exported in the body it also trips DMA0007.
// Every exported buffer is put, so that DMA0010 stays silent.
public class DMA0011Tests
{
    private static Task Verify(string members) => AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(FlowTestCode.Class(members));

    [Fact]
    public Task PassedToAMethodAfterThePut() => Verify(@"
    void M(DmaBufExporter exporter)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        b.Put();
        Use({|DMA0011:b|});
    }");

    [Fact]
    public Task MessageNamesBufferAndPutLine()
    {
        string source = FlowTestCode.Class(@"
    void M(DmaBufExporter exporter)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        b.Put();
        Use(b);
    }");
        // The usings take six lines and the class two: the Put is at line 13 and the use at line 14.
        DiagnosticResult expected = new DiagnosticResult(RuleDescriptors.DMA0011)
            .WithSpan(14, 13, 14, 14)
            .WithSpan(13, 9, 13, 16)
            .WithArguments("b", "is used after its reference was put at line 13");
        return AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(source, expected);
    }

    [Fact]
    public Task MessageForForeignDetach()
    {
        string source = FlowTestCode.Class(@"
    void M(DmaBufExporter exporter, Device dev)
    {
        var b1 = DmaBuffer.Export(exporter, 4096);
        var b2 = DmaBuffer.Export(exporter, 4096);
        var a = b1.Attach(dev);
        b2.Detach(a);
        b1.Put();
        b2.Put();
    }");
        DiagnosticResult expected = new DiagnosticResult(RuleDescriptors.DMA0011)
            .WithSpan(15, 9, 15, 21)
            .WithSpan(14, 17, 14, 31)
            .WithArguments("b2", "detaches 'a', which was attached to 'b1' at line 14");
        return AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(source, expected);
    }

    [Fact]
    public async Task PropertiesTellTheKindAndAdditionalLocationIsThePutOrTheAttach()
    {
        ImmutableArray<Diagnostic> diagnostics = await FlowDiagnostics.AnalyzeAsync(FlowTestCode.Class(@"
    void UseAfterPut(DmaBufExporter exporter)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        b.Put();
        var size = b.Size;
    }

    void ForeignDetach(DmaBufExporter exporter, Device dev)
    {
        var b1 = DmaBuffer.Export(exporter, 4096);
        var b2 = DmaBuffer.Export(exporter, 4096);
        var a = b1.Attach(dev);
        b2.Detach(a);
        b1.Put();
        b2.Put();
    }"));
        Diagnostic[] reported = diagnostics.Where(d => d.Id == RuleDescriptors.DMA0011.Id).OrderBy(d => d.Location.SourceSpan.Start).ToArray();
        Assert.Equal(2, reported.Length);
        Assert.Equal(new[] { "UseAfterPut", "ForeignDetach" }, reported.Select(d => d.Properties.TryGetValue("Kind", out string? kind) ? kind : null));
        Assert.Equal(new[] { "b.Put()", "b1.Attach(dev)" }, reported.Select(d => FlowDiagnostics.AdditionalText(d)));
        Assert.Equal(new[] { "b", "b2.Detach(a)" }, reported.Select(d => FlowDiagnostics.Text(d.Location)));
        Assert.DoesNotContain(diagnostics, d => d.Id != RuleDescriptors.DMA0011.Id);
    }

    [Fact]
    public Task PropertyReadAfterThePut() => Verify(@"
    long M()
    {
        var b = DmaBuffer.Export(new SystemHeapExporter(), 4096);
        b.Put();
        return {|DMA0011:b|}.Size;
    }");

    [Fact]
    public Task PutTwice() => Verify(@"
    void M(DmaBufExporter exporter)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        b.Put();
        {|DMA0011:b|}.Put();
    }");

    [Fact]
    public Task AttachedAfterThePut() => Verify(@"
    void M(DmaBufExporter exporter, Device dev)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        b.Put();
        var att = {|DMA0011:b|}.Attach(dev);
    }");

    [Fact]
    public Task CopyUsedAfterThePut() => Verify(@"
    void M(DmaBufExporter exporter)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        var c = b;
        b.Put();
        Use({|DMA0011:c|});
    }");

    [Fact]
    public Task PutThroughACopyThenUsed() => Verify(@"
    long M(DmaBufExporter exporter)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        var c = b;
        c.Put();
        return {|DMA0011:b|}.PageCount;
    }");

    [Fact]
    public Task PutOnOneBranchOnly() => Verify(@"
    void M(DmaBufExporter exporter, bool early)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        if (early)
            b.Put();
        Use({|DMA0011:b|});
    }");

    [Fact]
    public Task PutInEachIterationOfALoop() => Verify(@"
    void M(DmaBufExporter exporter, bool again)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        do
        {
            {|DMA0011:b|}.Put();
        }
        while (again);
    }");

    [Fact]
    public Task UsedAfterThePutInTheSameIteration() => Verify(@"
    void M(DmaBufExporter exporter, int n)
    {
        for (int i = 0; i < n; i++)
        {
            var b = DmaBuffer.Export(exporter, 4096);
            b.Put();
            var size = {|DMA0011:b|}.Size;
        }
    }");

    [Fact]
    public Task UsedAfterAPutInFinally() => Verify(@"
    void M(DmaBufExporter exporter, Device dev)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        try
        {
            var att = b.Attach(dev);
            b.Detach(att);
        }
        finally
        {
            b.Put();
        }

        Use({|DMA0011:b|});
    }");

    [Fact]
    public Task UsedOnTheEarlyReturnPathAfterThePut() => Verify(@"
    long M(DmaBufExporter exporter, bool skip)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        long size = b.Size;
        b.Put();
        if (skip)
            return {|DMA0011:b|}.Size;
        return size;
    }");

    [Fact]
    public Task DetachFromAnotherBuffer() => Verify(@"
    void M()
    {
        var dev = new Device(""gpu"");
        var b1 = DmaBuffer.Export(new SystemHeapExporter(), 4096);
        var b2 = DmaBuffer.Export(new SystemHeapExporter(), 8192);
        var a = b1.Attach(dev);
        {|DMA0011:b2.Detach(a)|};
        b2.Put();
        b1.Put();
    }");

    [Fact]
    public Task DetachFromAnotherBufferOnOneBranch() => Verify(@"
    void M(DmaBufExporter exporter, Device dev, bool first)
    {
        var b1 = DmaBuffer.Export(exporter, 4096);
        var b2 = DmaBuffer.Export(exporter, 4096);
        var a = b1.Attach(dev);
        if (first)
            b1.Detach(a);
        else
            {|DMA0011:b2.Detach(a)|};
        b1.Put();
        b2.Put();
    }");

    [Fact]
    public Task DetachFromAnotherBufferAfterMappingAndUnmapping() => Verify(@"
    void M(DmaBufExporter exporter, Device dev, byte[] data)
    {
        var b1 = DmaBuffer.Export(exporter, 4096);
        var a = b1.Attach(dev);
        var t = b1.MapAttachment(a, DmaDataDirection.ToDevice);
        dev.DmaWrite(t, 0, data);
        b1.UnmapAttachment(a, t);
        var b2 = DmaBuffer.Export(exporter, 4096);
        {|DMA0011:b2.Detach(a)|};
        b2.Put();
        b1.Put();
    }");

    // ---- Valid ----------------------------------------------------------------------------------------------------

    [Fact]
    public Task Valid_DesignExamples() => Verify(FlowTestCode.DesignExamples);

    [Fact]
    public Task Valid_UsedBeforeThePut() => Verify(@"
    long M(DmaBufExporter exporter, Device dev)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        var att = b.Attach(dev);
        b.Detach(att);
        long size = b.Size;
        b.Put();
        return size;
    }");

    [Fact]
    public Task BufferFromGetUsedAfterItsPut() => Verify(@"
    long M(int fd)
    {
        var b = DmaBuffer.Get(fd);
        b.Put();
        return {|DMA0011:b|}.Size;
    }");

    [Fact]
    public Task BufferWithAnFdCallUsedAfterItsPut() => Verify(@"
    long M(DmaBufExporter exporter)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        int fd = b.Fd();
        b.Put();
        return {|DMA0011:b|}.Size + fd;
    }");

    [Fact]
    public Task ParametersAndFieldsUsedAfterTheirPut() => Verify(@"
    private DmaBuffer _buf;

    long Parameter(DmaBuffer buf)
    {
        buf.Put();
        return {|DMA0011:buf|}.Size;
    }

    long Field()
    {
        _buf.Put();
        return {|DMA0011:_buf|}.Size;
    }

    void Dispose()
    {
        _buf.Put();
        _buf = null!;
    }");

    [Fact]
    public Task StoredInAFieldBeforeThePutThenUsed() => Verify(@"
    private DmaBuffer _buf;

    long Field(DmaBufExporter exporter)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        _buf = b;
        b.Put();
        return {|DMA0011:b|}.Size;
    }");

    [Fact]
    public Task HandedToAMethodOrConstructorBeforeThePutThenUsed() => Verify(@"
    sealed class Owner
    {
        public Owner(DmaBuffer buffer) => Buffer = buffer;

        public DmaBuffer Buffer { get; }
    }

    long Method(DmaBufExporter exporter)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        Use(b);
        b.Put();
        return {|DMA0011:b|}.Size;
    }

    Owner Constructor(DmaBufExporter exporter)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        var owner = new Owner(b);
        b.Put();
        Use({|DMA0011:b|});
        return owner;
    }");

    [Fact]
    public Task CapturedBeforeThePutThenUsed() => Verify(@"
    Func<long> M(DmaBufExporter exporter)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        Func<long> size = () => b.Size;
        b.Put();
        Use({|DMA0011:b|});
        return size;
    }");

    [Fact]
    public Task Valid_ReassignedAfterThePut() => Verify(@"
    long M(DmaBufExporter exporter, bool again)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        b.Put();
        b = DmaBuffer.Export(exporter, 8192);
        long size = b.Size;
        b.Put();
        if (again)
        {
            b = DmaBuffer.Export(exporter, 4096);
            b.Put();
        }

        return size;
    }");

    [Fact]
    public Task Valid_LoopExportsAndPutsInEachIteration() => Verify(@"
    void M(DmaBufExporter exporter, int n)
    {
        for (int i = 0; i < n; i++)
        {
            var b = DmaBuffer.Export(exporter, 4096);
            long size = b.Size;
            b.Put();
        }
    }");

    [Fact]
    public Task Valid_UseInTryPutInFinally() => Verify(@"
    long M(DmaBufExporter exporter, long needed)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        try
        {
            if (b.Size < needed)
                throw new ArgumentOutOfRangeException(nameof(needed));
            return b.Size;
        }
        finally
        {
            b.Put();
        }
    }");

    [Fact]
    public Task Valid_EarlyReturnAfterThePut() => Verify(@"
    long M(DmaBufExporter exporter, bool skip)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        if (skip)
        {
            b.Put();
            return 0;
        }

        long size = b.Size;
        b.Put();
        return size;
    }");

    [Fact]
    public Task Valid_PutOnOneBranchThenReassigned() => Verify(@"
    void M(DmaBufExporter exporter, bool fresh)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        if (fresh)
        {
            b.Put();
            b = DmaBuffer.Export(exporter, 8192);
        }

        long size = b.Size;
        b.Put();
    }");

    [Fact]
    public Task Valid_DetachFromTheSameBuffer() => Verify(@"
    void M(DmaBufExporter exporter, Device dev)
    {
        var b1 = DmaBuffer.Export(exporter, 4096);
        var b2 = DmaBuffer.Export(exporter, 4096);
        var a1 = b1.Attach(dev);
        var a2 = b2.Attach(dev);
        b1.Detach(a1);
        b2.Detach(a2);
        b1.Put();
        b2.Put();
    }");

    [Fact]
    public Task Valid_BuffersThatMayBeTheSame() => Verify(@"
    void Copy(DmaBufExporter exporter, Device dev)
    {
        var b1 = DmaBuffer.Export(exporter, 4096);
        var b2 = b1;
        var a = b1.Attach(dev);
        b2.Detach(a);
        b1.Put();
    }

    void Reassigned(DmaBufExporter exporter, Device dev)
    {
        var b1 = DmaBuffer.Export(exporter, 4096);
        var b2 = DmaBuffer.Export(exporter, 4096);
        var a = b1.Attach(dev);
        b2.Put();
        b2 = b1;
        b2.Detach(a);
        b1.Put();
    }

    void Parameters(DmaBuffer b1, DmaBuffer b2, Device dev)
    {
        var a = b1.Attach(dev);
        b2.Detach(a);
    }

    void Gets(int fd1, int fd2, Device dev)
    {
        var b1 = DmaBuffer.Get(fd1);
        var b2 = DmaBuffer.Get(fd2);
        var a = b1.Attach(dev);
        b2.Detach(a);
        b1.Put();
        b2.Put();
    }");

    [Fact]
    public Task Valid_AttachmentThatIsNotAStableLocal() => Verify(@"
    void Parameter(DmaBufExporter exporter, DmaBufAttachment a)
    {
        var b1 = DmaBuffer.Export(exporter, 4096);
        var b2 = DmaBuffer.Export(exporter, 4096);
        b2.Detach(a);
        b1.Put();
        b2.Put();
    }

    void Reassigned(DmaBufExporter exporter, Device dev)
    {
        var b1 = DmaBuffer.Export(exporter, 4096);
        var b2 = DmaBuffer.Export(exporter, 4096);
        var a = b1.Attach(dev);
        a = b2.Attach(dev);
        b2.Detach(a);
        b1.Put();
        b2.Put();
    }");

    [Fact]
    public Task Valid_PutOnEachPathWithNoUseAfter() => Verify(@"
    long M(DmaBufExporter exporter, bool early)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        if (early)
        {
            b.Put();
            return 0;
        }
        long s = b.Size;
        b.Put();
        return s;
    }");

    [Fact]
    public Task Valid_IsReleasedIsReadAfterThePut() => Verify(@"
    bool M(DmaBufExporter exporter)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        b.Put();
        return b.IsReleased;
    }");

    [Fact]
    public Task Valid_NullCheckAndNullAssignmentAfterThePut() => Verify(@"
    void M(DmaBufExporter exporter)
    {
        DmaBuffer? b = DmaBuffer.Export(exporter, 4096);
        b.Put();
        if (b != null)
            b = null;
    }");

    [Fact]
    public Task Valid_NameofAndToStringAfterThePut() => Verify(@"
    string M(DmaBufExporter exporter)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        b.Put();
        return nameof(b) + b.ToString();
    }");

    [Fact]
    public Task Valid_ReferenceComparisonsAfterThePut() => Verify(@"
    bool M(DmaBufExporter exporter, DmaBuffer other)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        b.Put();
        return ReferenceEquals(b, other) || b == other;
    }");

    [Fact]
    public Task Valid_PutAndExportAgainInALoop() => Verify(@"
    void M(DmaBufExporter exporter, int n)
    {
        DmaBuffer b = DmaBuffer.Export(exporter, 4096);
        for (int i = 0; i < n; i++)
        {
            b.Put();
            b = DmaBuffer.Export(exporter, 4096);
        }
        b.Put();
    }");

    [Fact]
    public Task Valid_DetachThroughACopyOfTheBuffer() => Verify(@"
    void M(DmaBuffer buf, Device dev)
    {
        var alias = buf;
        var att = buf.Attach(dev);
        alias.Detach(att);
    }");

    [Fact]
    public Task Valid_DetachThroughAnArrayElement() => Verify(@"
    void M(DmaBuffer[] bufs, Device dev)
    {
        var att = bufs[0].Attach(dev);
        bufs[0].Detach(att);
    }");

    [Fact]
    public Task Valid_DetachOnAParameterThatMayBeTheField() => Verify(@"
    DmaBuffer _buf = null!;
    void M(DmaBuffer buf, Device dev)
    {
        var att = _buf.Attach(dev);
        buf.Detach(att);
    }");

    [Fact]
    public Task Valid_GetUsePutAndGetAgain() => Verify(@"
    long M(int fd)
    {
        var b = DmaBuffer.Get(fd);
        long s = b.Size;
        b.Put();
        b = DmaBuffer.Get(fd);
        s += b.Size;
        b.Put();
        return s;
    }");
}
