// Contracts inferred between methods: a helper that needs the caller's access, ends it, leaves it begun, puts the
// caller's reference or returns a reference or a scope is judged at each call; one that differs by path is judged
// itself.
using System.Threading.Tasks;
using Microsoft.CodeAnalysis.Testing;

namespace DmaBuf.Analyzers.Tests.Engine;

// Contracts between methods, inferred from the callee's body with no annotation: a helper that kmaps or ends access on
// a parameter with nothing begun in it requires access begun by its caller (DMA0007/DMA0002/DMA0006 at a call that
// breaks it, the helper's kmap or end as the related location); a helper that leaves access begun on every path hands
// it to its callers (DMA0001 in a caller that never ends it); a helper that puts its parameter consumes the caller's
// reference (DMA0011 at a later use); a helper that returns a Get or Export reference gives the caller one to put
// (DMA0010); a helper that returns a CpuAccess scope gives the caller an access to end.
// Deliberately silent: a helper with no caller (its requirement cannot be broken); a helper that does different things
// on different paths (it is judged itself, and the caller takes the argument as handed away); virtual methods (what
// runs is not known).
public class ContractTests
{
    private static Task Verify(string members) => AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(FlowTestCode.Class(members));

    [Fact]
    public Task Valid_HelperThatMapsTheCallersAccess() => Verify(@"
    static int Sum(DmaBuffer b)
    {
        using var page = b.Kmap(0);
        return page.Span[0];
    }

    int Caller(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        int sum = Sum(buf);
        buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        return sum;
    }

    static int Unused(DmaBuffer b)
    {
        using var page = b.Kmap(3);
        return page.Span[0];
    }");

    [Fact]
    public Task CallerWithNothingBegun()
    {
        string source = FlowTestCode.Class(@"
    static int Sum(DmaBuffer b)
    {
        using var page = b.Kmap(0);
        return page.Span[0];
    }

    int Caller(DmaBufExporter exporter)
    {
        var buf = DmaBuffer.Export(exporter, 4096);
        int sum = Sum(buf);
        buf.Put();
        return sum;
    }");
        DiagnosticResult expected = new DiagnosticResult(RuleDescriptors.DMA0007)
            .WithSpan(19, 19, 19, 27)
            .WithSpan(12, 26, 12, 35)
            .WithArguments("buf", "0", "no CPU access is begun before the call to 'Sum', which maps it at line 12");
        return AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(source, expected);
    }

    // The range a helper leaves begun is written in the caller's terms: its parameters are the call's arguments.
    [Fact]
    public Task HelperBeginIsReportedInTheCallersTerms()
    {
        string source = FlowTestCode.Class(@"
    static DmaBuffer Reading(DmaBuffer b, long pages)
    {
        b.BeginCpuAccess(0, pages * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        return b;
    }

    int Caller(DmaBuffer frame, int count)
    {
        Reading(frame, count + 1);
        return 0;
    }");
        DiagnosticResult expected = new DiagnosticResult(RuleDescriptors.DMA0001)
            .WithSpan(19, 9, 19, 18)
            .WithSpan(18, 9, 18, 34)
            .WithArguments("frame", "bytes 0..((count + 1) * DmaBuffer.PageSize) - 1, FromDevice", "18", "returns at line 19");
        return AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(source, expected);
    }

    [Fact]
    public Task CallerAfterItsEndAndOutsideItsRange() => Verify(@"
    static void Touch(DmaBuffer b, long page)
    {
        using var mapped = b.Kmap(page);
    }

    static void TouchThird(DmaBuffer b)
    {
        using var mapped = b.Kmap(2);
    }

    void Ended(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        {|DMA0007:TouchThird(buf)|};
    }

    void Outside(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        {|DMA0006:TouchThird(buf)|};
        Touch(buf, 0);
        buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
    }");

    [Fact]
    public Task HelperThatEndsTheCallersAccess() => Verify(@"
    static void Finish(DmaBuffer b) => b.EndCpuAccess(0, b.Size, DmaDataDirection.FromDevice);

    void Valid(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        Finish(buf);
    }

    void Twice(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        Finish(buf);
        {|DMA0002:Finish(buf)|};
    }

    void OtherDirection(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, buf.Size, DmaDataDirection.ToDevice);
        {|DMA0002:Finish(buf)|};
    }");

    [Fact]
    public Task HelperThatLeavesAccessBegun() => Verify(@"
    static void Open(DmaBuffer b) => b.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice);

    void Valid(DmaBuffer buf)
    {
        Open(buf);
        using (var page = buf.Kmap(0))
            Checksum(page.Span);
        buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
    }

    void NeverEnded(DmaBuffer buf)
    {
        Open(buf);
        using (var page = buf.Kmap(0))
            Checksum(page.Span);
    {|DMA0001:}|}");

    [Fact]
    public Task HelperThatPutsTheCallersReference() => Verify(@"
    static void Release(DmaBuffer b) => b.Put();

    long Valid(int fd)
    {
        var buf = DmaBuffer.Get(fd);
        long size = buf.Size;
        Release(buf);
        return size;
    }

    long UsedAfter(int fd)
    {
        var buf = DmaBuffer.Get(fd);
        Release(buf);
        return {|DMA0011:buf|}.Size;
    }");

    [Fact]
    public Task HelperThatReturnsAReference() => Verify(@"
    static DmaBuffer? Import(int fd)
    {
        if (fd < 0)
            return null;
        var buf = DmaBuffer.Get(fd);
        return buf;
    }

    long Valid(int fd)
    {
        var buf = Import(fd);
        if (buf is null)
            return 0;
        long size = buf.Size;
        buf.Put();
        return size;
    }

    long Dropped(int fd)
    {
        var buf = Import(fd);
        if (buf is null)
            return 0;
        {|DMA0010:return buf.Size;|}
    }");

    [Fact]
    public Task HelperThatReturnsAScope() => Verify(@"
    static CpuAccessScope Read(DmaBuffer b) => b.CpuAccess(0, 4096, DmaDataDirection.FromDevice);

    int Valid(DmaBuffer buf)
    {
        using (Read(buf))
        using (var page = buf.Kmap(0))
            return page.Span[0];
    }

    int NeverDisposed(DmaBuffer buf)
    {
        var scope = Read(buf);
        using var page = buf.Kmap(0);
        {|DMA0001:return page.Span[0];|}
    }");

    [Fact]
    public Task Valid_HelperThatDiffersByPathIsJudgedItself() => Verify(@"
    static void Maybe(DmaBuffer b, bool end)
    {
        if (end)
            b.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
    }

    void Caller(DmaBuffer buf, bool end)
    {
        buf.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        Maybe(buf, end);
    }");

    [Fact]
    public Task Valid_RecursiveHelper() => Verify(@"
    static void Walk(DmaBuffer b, int depth)
    {
        if (depth > 0)
            Walk(b, depth - 1);
    }

    void Caller(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        Walk(buf, 3);
        buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
    }");

    [Fact]
    public Task OpenThatSucceedsOrFailsByItsReturnValue() => Verify(@"
    static int Begin(DmaBuffer b)
    {
        try
        {
            b.BeginCpuAccess(0, b.Size, DmaDataDirection.FromDevice);
        }
        catch (DmaBufException e)
        {
            return -e.Errno;
        }

        return 0;
    }

    int Valid(DmaBuffer buf)
    {
        int ret = Begin(buf);
        if (ret != 0)
            return ret;
        using (var page = buf.Kmap(0))
            Checksum(page.Span);
        buf.EndCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        return 0;
    }

    int Tested(DmaBuffer buf)
    {
        if (Begin(buf) < 0)
            return -1;
        buf.EndCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        return 0;
    }

    int NeverEnded(DmaBuffer buf)
    {
        int ret = Begin(buf);
        if (ret != 0)
            return ret;
        {|DMA0001:return 0;|}
    }");

    [Fact]
    public Task HelperThatPutsOnSuccessOnly() => Verify(@"
    static int Adopt(DmaBuffer b, bool cached)
    {
        if (!cached)
            return -22;
        b.Put();
        return 0;
    }

    long Caller(int fd, bool cached)
    {
        var buf = DmaBuffer.Get(fd);
        int err = Adopt(buf, cached);
        if (err != 0)
        {
            buf.Put();
            return err;
        }

        return 0;
    }

    long UsedAfter(int fd, bool cached)
    {
        var buf = DmaBuffer.Get(fd);
        if (Adopt(buf, cached) == 0)
            return {|DMA0011:buf|}.Size;
        buf.Put();
        return 0;
    }");

    [Fact]
    public Task HelperThatKeepsOnOneWayAndPutsOnAnother() => Verify(@"
    private readonly List<DmaBufAttachment> _cache = new();

    int Adopt(DmaBuffer b, Device dev, bool hit)
    {
        if (hit)
        {
            b.Put();
            return 0;
        }

        _cache.Add(b.Attach(dev));
        return 0;
    }

    long Caller(int fd, Device dev, bool hit)
    {
        var buf = DmaBuffer.Get(fd);
        if (Adopt(buf, dev, hit) != 0)
            return -1;
        return {|DMA0011:buf|}.Size;
    }

    void Valid(int fd, Device dev, bool hit)
    {
        var buf = DmaBuffer.Get(fd);
        Adopt(buf, dev, hit);
    }");

    [Fact]
    public Task HelperThatReturnsItsParameter() => Verify(@"
    static DmaBuffer Reading(DmaBuffer b)
    {
        b.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        return b;
    }

    static void Done(DmaBuffer b) => b.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);

    int Valid(DmaBuffer buf)
    {
        var same = Reading(buf);
        using (var page = same.Kmap(0))
            Checksum(page.Span);
        Done(buf);
        return 0;
    }

    DmaBuffer HandedOn(DmaBuffer buf) => Reading(buf);

    int NeverDone(DmaBuffer buf)
    {
        using var page = Reading(buf).Kmap(0);
        {|DMA0001:return page.Span[0];|}
    }");

    [Fact]
    public Task EarlyReturnThatLeavesAccessBegunIsTheMethodsOwnBug() => Verify(@"
    static int FirstByte(DmaBuffer buf, bool empty)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        if (empty)
            {|DMA0001:return 0;|}
        using (var page = buf.Kmap(0))
        {
            int first = page.Span[0];
            buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
            return first;
        }
    }

    int Caller(DmaBuffer buf) => FirstByte(buf, empty: true);");
}
