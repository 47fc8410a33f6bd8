// DMA0012: a vmap not vunmapped on some path, vunmapped twice or through another buffer, also across helpers that
// return or vunmap it; vmaps that escape, vmaps the method cannot see and a failed Vmap stay silent.
using System.Threading.Tasks;
using DmaBuf.Analyzers.Tests.Engine;
using Microsoft.CodeAnalysis.Testing;

namespace DmaBuf.Analyzers.Tests;

// DMA0012: a vmap not vunmapped on some path, vunmapped twice, or vunmapped through another buffer.
// Deliberately silent (precision first):
// - a vmap that escapes: returned, stored in a field, property or array, passed to a method that may keep it;
// - a vunmap of a vmap the method cannot see (a parameter, a field, an array element): it may be right;
// - a second vunmap through a variable written more than once (a path on which it holds nothing may not have vmapped);
// - methods marked [LeavesCpuAccessOpen] (what they leave mapped);
// - exceptions thrown by arbitrary calls are not paths; a Vmap that fails maps nothing;
// - a helper that stores the vmap it is given, or vunmaps it on some paths only: the caller's vmap is handed away.
// Between methods: a helper that returns the vmap it made hands it to its caller (DMA0012 where the caller leaves it,
// the call as the related location); a helper that vunmaps (or disposes) its vmap parameter on every path gives the
// caller's vmap back at the call (a later vunmap is a second one).
// Most cases vmap a parameter's buffer and begin access on it, so that DMA0007 stays silent.
public class DMA0012Tests
{
    private static Task Verify(string members) => AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(FlowTestCode.Class(members));

    [Fact]
    public Task VmapAndVunmap() => Verify(@"
    void M(DmaBuffer buf)
    {
        var map = buf.Vmap();
        buf.BeginCpuAccess(DmaDataDirection.FromDevice);
        Checksum(map.GetSpan(0, 64));
        buf.EndCpuAccess(DmaDataDirection.FromDevice);
        buf.Vunmap(map);
    }");

    [Fact]
    public Task UsingDeclarationAndStatementVunmap() => Verify(@"
    void M(DmaBuffer buf)
    {
        using var map = buf.Vmap();
        using (buf.CpuAccess(DmaDataDirection.FromDevice))
            Checksum(map.GetSpan(0, 64));
    }

    void N(DmaBuffer buf)
    {
        using (var map = buf.Vmap())
        using (buf.CpuAccess(DmaDataDirection.ToDevice))
            map.GetSpan(0, 16).Clear();
    }");

    [Fact]
    public Task DisposeVunmaps() => Verify(@"
    void M(DmaBuffer buf)
    {
        DmaBufVmap map = buf.Vmap();
        map.Dispose();
    }");

    [Fact]
    public Task VunmapInFinally() => Verify(@"
    void M(DmaBuffer buf, int n)
    {
        var map = buf.Vmap();
        try
        {
            if (n < 0)
                throw new ArgumentOutOfRangeException(nameof(n));
        }
        finally
        {
            buf.Vunmap(map);
        }
    }");

    [Fact]
    public Task FailedVmapMapsNothing() => Verify(@"
    int M(DmaBuffer buf)
    {
        DmaBufVmap map;
        try
        {
            map = buf.Vmap();
        }
        catch (DmaBufException e)
        {
            return -e.Errno;
        }

        buf.Vunmap(map);
        return 0;
    }");

    [Fact]
    public Task NeverVunmapped() => Verify(@"
    void M(DmaBuffer buf)
    {
        var map = buf.Vmap();
        Use(map.Length);
    {|DMA0012:}|}");

    [Fact]
    public Task MessageNamesBufferAndLines()
    {
        string source = FlowTestCode.Class(@"
    void M(DmaBuffer buf)
    {
        var map = buf.Vmap();
    }");
        DiagnosticResult expected = new DiagnosticResult(RuleDescriptors.DMA0012)
            .WithSpan(13, 5, 13, 6)
            .WithSpan(12, 19, 12, 29)
            .WithArguments("buf", 12, "is not vunmapped on the path that falls off the end at line 13");
        return AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(source, expected);
    }

    [Fact]
    public Task EarlyReturnAndThrow() => Verify(@"
    int M(DmaBuffer buf, int i)
    {
        var map = buf.Vmap();
        if (i < 0)
            {|DMA0012:return -1;|}
        if (i > 100)
            {|DMA0012:throw new ArgumentOutOfRangeException(nameof(i));|}
        buf.Vunmap(map);
        return 0;
    }");

    [Fact]
    public Task CorrelatedConditionIsFollowed() => Verify(@"
    void M(DmaBuffer buf, bool flag)
    {
        DmaBufVmap map = default;
        if (flag)
            map = buf.Vmap();
        Checksum(default);
        if (flag)
            buf.Vunmap(map);
    }");

    [Fact]
    public Task ErrorReturnOfHelperIsFollowed() => Verify(@"
    int M(DmaBuffer buf)
    {
        var map = buf.Vmap();
        int ret = Check(buf);
        if (ret != 0)
        {
            buf.Vunmap(map);
            return ret;
        }

        buf.Vunmap(map);
        return 0;
    }

    static int Check(DmaBuffer buf) => buf.Size > 0 ? 0 : -22;");

    [Fact]
    public Task VunmappedTwice() => Verify(@"
    void M(DmaBuffer buf)
    {
        var map = buf.Vmap();
        buf.Vunmap(map);
        {|DMA0012:buf.Vunmap(map)|};
    }");

    [Fact]
    public Task VunmappedTwiceOnSomePath() => Verify(@"
    void M(DmaBuffer buf, bool early)
    {
        var map = buf.Vmap();
        if (early)
            buf.Vunmap(map);
        {|DMA0012:buf.Vunmap(map)|};
    }");

    [Fact]
    public Task DisposedAfterVunmap() => Verify(@"
    void M(DmaBuffer buf)
    {
        var map = buf.Vmap();
        buf.Vunmap(map);
        {|DMA0012:map.Dispose()|};
    }");

    [Fact]
    public Task UsingAfterExplicitVunmap() => Verify(@"
    void M(DmaBuffer buf)
    {
        {|DMA0012:using|} var map = buf.Vmap();
        buf.Vunmap(map);
    }");

    [Fact]
    public Task VunmapThroughAnotherBuffer()
    {
        string source = FlowTestCode.Class(@"
    void M(DmaBuffer a, DmaBuffer b)
    {
        var map = a.Vmap();
        b.Vunmap(map);
    }");
        DiagnosticResult expected = new DiagnosticResult(RuleDescriptors.DMA0012)
            .WithSpan(13, 9, 13, 22)
            .WithSpan(12, 19, 12, 27)
            .WithArguments("a", 12, "is vunmapped through 'b', another buffer; vunmap it on 'a'");
        // Reported once: the vunmap is taken as the one meant for the vmap (no second report at the way out).
        return AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(source, expected);
    }

    [Fact]
    public Task EscapesAreSilent() => Verify(@"
    DmaBufVmap _kept;
    readonly DmaBufVmap[] _maps = new DmaBufVmap[2];

    DmaBufVmap Returned(DmaBuffer buf) => buf.Vmap();

    void Stored(DmaBuffer buf) => _kept = buf.Vmap();

    void InArray(DmaBuffer buf) => _maps[0] = buf.Vmap();

    void Passed(DmaBuffer buf)
    {
        var map = buf.Vmap();
        Use(map);
    }

    void VunmapsKept(DmaBuffer buf)
    {
        buf.Vunmap(_kept);
        buf.Vunmap(_maps[0]);
    }");

    [Fact]
    public Task VunmapOfParameterIsSilent() => Verify(@"
    void M(DmaBuffer buf, DmaBufVmap map)
    {
        buf.Vunmap(map);
        buf.Vunmap(map);
    }");

    [Fact]
    public Task LeavesCpuAccessOpenIsSilent() => Verify(@"
    [LeavesCpuAccessOpen]
    void M(DmaBuffer buf)
    {
        var map = buf.Vmap();
        Checksum(default);
    }");

    [Fact]
    public Task VmapInLoop() => Verify(@"
    void M(DmaBuffer[] bufs)
    {
        foreach (DmaBuffer buf in bufs)
        {
            var map = buf.Vmap();
            buf.Vunmap(map);
        }
    }

    void N(DmaBuffer buf, int n)
    {
        for (int i = 0; i < n; i++)
        {
            var map = buf.Vmap();
            if (i == 3)
                break;
            buf.Vunmap(map);
        }
    {|DMA0012:}|}");

    [Fact]
    public Task Valid_HelperThatReturnsAVmapVunmappedByTheCaller() => Verify(@"
    static DmaBufVmap Map(DmaBuffer b) => b.Vmap();

    static DmaBufVmap MapChecked(DmaBuffer b)
    {
        if (b.Size == 0)
            throw new ArgumentException(nameof(b));
        var map = b.Vmap();
        return map;
    }

    void M(DmaBuffer buf)
    {
        var map = Map(buf);
        using (buf.CpuAccess(DmaDataDirection.FromDevice))
            Checksum(map.GetSpan(0, 64));
        buf.Vunmap(map);
    }

    void N(DmaBuffer buf)
    {
        using var map = MapChecked(buf);
        Use(map.Length);
    }");

    [Fact]
    public Task HelperThatReturnsAVmapLeftByTheCaller()
    {
        string source = FlowTestCode.Class(@"
    static DmaBufVmap Map(DmaBuffer b) => b.Vmap();

    int M(DmaBuffer buf, int n)
    {
        var map = Map(buf);
        if (n < 0)
            return -1;
        buf.Vunmap(map);
        return 0;
    }");
        DiagnosticResult expected = new DiagnosticResult(RuleDescriptors.DMA0012)
            .WithSpan(16, 13, 16, 23)
            .WithSpan(14, 19, 14, 27)
            .WithArguments("buf", 14, "is not vunmapped on the path that returns at line 16");
        return AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(source, expected);
    }

    [Fact]
    public Task HelperThatReturnsAVmapVunmappedTwiceOrThroughAnotherBuffer() => Verify(@"
    static DmaBufVmap Map(DmaBuffer b) => b.Vmap();

    void Twice(DmaBuffer buf)
    {
        var map = Map(buf);
        buf.Vunmap(map);
        {|DMA0012:buf.Vunmap(map)|};
    }

    void Other(DmaBuffer a, DmaBuffer b)
    {
        var map = Map(a);
        {|DMA0012:b.Vunmap(map)|};
    }");

    [Fact]
    public Task Valid_HelperThatVunmapsTheCallersVmap() => Verify(@"
    static void Release(DmaBuffer b, DmaBufVmap m) => b.Vunmap(m);

    static void Done(DmaBufVmap m, bool log)
    {
        if (log)
            Console.WriteLine(m.Length);
        m.Dispose();
    }

    void M(DmaBuffer buf)
    {
        var map = buf.Vmap();
        using (buf.CpuAccess(DmaDataDirection.FromDevice))
            Checksum(map.GetSpan(0, 64));
        Release(buf, map);
    }

    int N(DmaBuffer buf, bool log)
    {
        var map = buf.Vmap();
        if (map.Length == 0)
        {
            Done(map, log);
            return -1;
        }

        Done(map, log);
        return 0;
    }");

    [Fact]
    public Task VunmappedAgainAfterAHelperVunmappedIt() => Verify(@"
    static void Release(DmaBuffer b, DmaBufVmap m) => b.Vunmap(m);

    void M(DmaBuffer buf)
    {
        var map = buf.Vmap();
        Release(buf, map);
        {|DMA0012:buf.Vunmap(map)|};
    }

    void N(DmaBuffer buf)
    {
        var map = buf.Vmap();
        buf.Vunmap(map);
        {|DMA0012:Release(buf, map)|};
    }");

    [Fact]
    public Task Valid_HelperThatKeepsOrVunmapsOnSomePathsIsAnEscape() => Verify(@"
    DmaBufVmap _kept;

    void Keep(DmaBuffer b, DmaBufVmap m) => _kept = m;

    static void Maybe(DmaBuffer b, DmaBufVmap m, bool done)
    {
        if (done)
            b.Vunmap(m);
    }

    DmaBufVmap MapAndKeep(DmaBuffer b)
    {
        _kept = b.Vmap();
        return _kept;
    }

    static DmaBufVmap MapAndVunmap(DmaBuffer b)
    {
        var map = b.Vmap();
        b.Vunmap(map);
        return map;
    }

    void M(DmaBuffer buf, bool done)
    {
        var a = buf.Vmap();
        Keep(buf, a);
        var b = buf.Vmap();
        Maybe(buf, b, done);
        var c = MapAndKeep(buf);
        var d = MapAndVunmap(buf);
        Use(c.Length + d.Length);
    }");

    [Fact]
    public Task HelperThatVunmapsThroughAHelperOrAnotherBuffer() => Verify(@"
    static void Release(DmaBuffer b, DmaBufVmap m) => b.Vunmap(m);

    static void Finish(DmaBuffer b, DmaBufVmap m)
    {
        b.EndCpuAccess(DmaDataDirection.FromDevice);
        Release(b, m);
    }

    void Valid(DmaBuffer buf)
    {
        var map = buf.Vmap();
        buf.BeginCpuAccess(DmaDataDirection.FromDevice);
        Checksum(map.GetSpan(0, 64));
        Finish(buf, map);
    }

    void Twice(DmaBuffer buf)
    {
        var map = buf.Vmap();
        buf.BeginCpuAccess(DmaDataDirection.FromDevice);
        Finish(buf, map);
        {|DMA0012:map.Dispose()|};
    }

    void Other(DmaBuffer a, DmaBuffer b)
    {
        var map = a.Vmap();
        {|DMA0012:Release(b, map)|};
    }");

    [Fact]
    public Task Valid_HelperThatReturnsAVmapItDisposedIsNotFollowed() => Verify(@"
    static DmaBufVmap Stale(DmaBuffer b)
    {
        using var map = b.Vmap();
        return map;
    }

    static DmaBufVmap MaybeMapped(DmaBuffer b, DmaBufVmap cached, bool hit) => hit ? cached : b.Vmap();

    void M(DmaBuffer buf, DmaBufVmap cached, bool hit)
    {
        var stale = Stale(buf);
        var map = MaybeMapped(buf, cached, hit);
        Use(stale.Length + map.Length);
    }");
}
