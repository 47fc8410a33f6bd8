// Correlated conditions: a second test of an unchanged value (null, bool, error code, enum, switch, Nullable) takes the
// first one's branch, and is judged again once the value may have changed; what a failed begin or kmap leaves.
using System.Threading.Tasks;

namespace DmaBuf.Analyzers.Tests.Engine;

// Correlated conditions: a second test of a value that did not change since the first takes the same branch, so the
// paths that would need the other branch do not happen and give no report (DMA0001, DMA0002 and the rules on the
// same paths). Followed: null tests of locals, parameters, fields and property chains rooted in them; bool, integer
// and enum comparisons (`ret != 0`, `err < 0`, `== State.X`, `switch`); Nullable (`== null`, `HasValue`); a local
// given null, a constant or a conditional (`c ? buf.CpuAccess(...) : null`) on a path.
// Reported again as soon as the value may have changed in between (a write to it or to what it is read through).
public class CorrelationTests
{
    private static Task Verify(string members) => AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(FlowTestCode.Class(members));

    [Fact]
    public Task Valid_NullTestOfPropertyChainRepeated() => Verify(@"
    sealed class Import
    {
        public DmaBufAttachment? Attach { get; init; }
    }

    sealed class GemObject
    {
        public Import? Import { get; init; }
        public long Size { get; init; }
    }

    int HandleDamage(GemObject obj)
    {
        if (obj.Import != null)
            obj.Import.Attach!.Buffer.BeginCpuAccess(0, obj.Size, DmaDataDirection.FromDevice);
        Console.WriteLine(obj.Size);
        if (obj.Import != null)
            obj.Import.Attach!.Buffer.EndCpuAccess(0, obj.Size, DmaDataDirection.FromDevice);
        return 0;
    }");

    [Fact]
    public Task Valid_NullTestOfLocalParameterAndReadonlyField() => Verify(@"
    private readonly DmaBuffer? _buf;

    void Local(DmaBuffer? given)
    {
        DmaBuffer? buf = given;
        if (buf is not null)
            buf.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        if (buf is { })
            buf.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice);
    }

    void Parameter(DmaBuffer? buf)
    {
        if (buf != null)
            buf.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        if (buf == null)
            return;
        buf.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice);
    }

    void Field()
    {
        if (_buf is null)
            return;
        _buf.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        if (_buf is null)
            return;
        _buf.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice);
    }");

    [Fact]
    public Task Valid_ErrorCodeTestedAgain() => Verify(@"
    int Fill(DmaBuffer buf, int want)
    {
        int ret = want > 0 ? 0 : -22;
        if (ret == 0)
            buf.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        if (ret != 0)
            goto out_;
        using (var page = buf.Kmap(0))
            page.Span.Clear();
        buf.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice);
    out_:
        return ret;
    }

    int Negative(DmaBuffer buf, int err)
    {
        if (err >= 0)
            buf.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        if (err < 0)
            return err;
        buf.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        return 0;
    }");

    [Fact]
    public Task Valid_FlagSetWhereTheBeginSucceeded() => Verify(@"
    int M(DmaBuffer buf)
    {
        int ret = 0;
        try
        {
            buf.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        }
        catch (DmaBufException e)
        {
            ret = -e.Errno;
        }

        if (ret != 0)
            return ret;
        buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        return 0;
    }");

    [Fact]
    public Task Valid_EnumComparisonAndSwitch() => Verify(@"
    enum Mode { Off, Read, Write }

    void Compare(DmaBuffer buf, Mode mode)
    {
        if (mode == Mode.Read)
            buf.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        Console.WriteLine(mode);
        if (mode == Mode.Read)
            buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
    }

    void Switch(DmaBuffer buf, Mode mode)
    {
        if (mode != Mode.Off)
            buf.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        switch (mode)
        {
            case Mode.Off:
                return;
            case Mode.Read:
            case Mode.Write:
                buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
                break;
        }
    }");

    [Fact]
    public Task Valid_NullablePageAndConditionalScope() => Verify(@"
    void Page(DmaBuffer buf, bool map)
    {
        buf.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        DmaBufPage? page = map ? buf.Kmap(0) : null;
        if (page.HasValue)
            Checksum(page.Value.Span);
        if (page != null)
            buf.Kunmap(0, page.Value);
        buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
    }

    void Scope(DmaBuffer buf, bool read)
    {
        var scope = read ? buf.CpuAccess(0, 4096, DmaDataDirection.FromDevice) : null;
        if (scope is null)
            return;
        scope.Dispose();
    }

    void NullLocal(DmaBuffer buf, bool read)
    {
        CpuAccessScope? scope = null;
        if (read)
            scope = buf.CpuAccess(0, 4096, DmaDataDirection.FromDevice);
        if (scope != null)
            scope.Dispose();
    }");

    [Fact]
    public Task Valid_TwoValuesSetTogether() => Verify(@"
    void M(DmaBuffer buf, bool a)
    {
        bool x;
        if (a)
            x = true;
        else
            x = false;
        if (a)
            buf.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        if (x)
            buf.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice);
    }");

    [Fact]
    public Task ValueChangedBetweenTheTests() => Verify(@"
    void M(DmaBuffer buf, int ret)
    {
        if (ret == 0)
            buf.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        ret = Next();
        if (ret == 0)
            {|DMA0002:buf.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice)|};
    {|DMA0001:}|}

    static int Next() => 1;");

    [Fact]
    public Task MemberWrittenBetweenTheTests() => Verify(@"
    sealed class Holder
    {
        public DmaBuffer? Buf;
    }

    void M(Holder h, DmaBuffer other)
    {
        if (h.Buf != null)
            other.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        h.Buf = null;
        if (h.Buf != null)
            other.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice);
    {|DMA0001:}|}");

    [Fact]
    public Task DifferentConditionsDoNotCorrelate() => Verify(@"
    void M(DmaBuffer buf, int a, int b)
    {
        if (a == 0)
            buf.BeginCpuAccess(0, 4096, DmaDataDirection.ToDevice);
        if (b == 0)
            {|DMA0002:buf.EndCpuAccess(0, 4096, DmaDataDirection.ToDevice)|};
    {|DMA0001:}|}");

    // ---- A runtime call that fails ------------------------------------------------------------------------------

    [Fact]
    public Task Valid_CatchAfterFailedBeginHasNothingBegun() => Verify(@"
    int M(DmaBuffer buf)
    {
        try
        {
            buf.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        }
        catch (DmaBufException e)
        {
            return -e.Errno;
        }

        buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        return 0;
    }");

    [Fact]
    public Task Valid_FailedKmapSetsThePageToNull() => Verify(@"
    int M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        DmaBufPage? page;
        try
        {
            page = buf.Kmap(0);
        }
        catch (DmaBufException)
        {
            page = null;
        }

        if (page == null)
        {
            buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
            return -12;
        }

        Checksum(page.Value.Span);
        buf.Kunmap(0, page.Value);
        buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        return 0;
    }");

    [Fact]
    public Task EndInTheCatchOfAFailedBegin() => Verify(@"
    void M(DmaBuffer buf)
    {
        try
        {
            buf.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        }
        catch (DmaBufException)
        {
            {|DMA0002:buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice)|};
            throw;
        }

        buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
    }");

    [Fact]
    public Task FailedKmapLeavesTheAccessBegun() => Verify(@"
    int M(DmaBuffer buf)
    {
        try
        {
            buf.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice);
            using (var page = buf.Kmap(0))
                Checksum(page.Span);
            buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        }
        catch (DmaBufException e)
        {
            {|DMA0001:return -e.Errno;|}
        }

        return 0;
    }");
}
