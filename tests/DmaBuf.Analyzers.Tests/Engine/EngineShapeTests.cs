// The engine's ranges and intervals (page spans of partial pages, unknown ranges), nothing reported without the real
// runtime, and body shapes (accessors, constructors, operators, filters, lambdas, many branches) that must report only
// what they hold.
using System.Threading.Tasks;
using DmaBuf.Analyzers.Engine;

namespace DmaBuf.Analyzers.Tests.Engine;

/// <summary>The engine's value helpers, and body shapes that must neither crash nor report wrongly.</summary>
public class EngineShapeTests
{
    private static Task Verify(string members) => AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(FlowTestCode.Class(members));

    [Theory]
    [InlineData(0, 4096, 0, 0)]
    [InlineData(0, 4097, 0, 1)]
    [InlineData(100, 4096, 0, 1)]
    [InlineData(4095, 2, 0, 1)]
    [InlineData(8192, 1, 2, 2)]
    public void PageSpanCountsPartialPagesAsInside(long start, long length, long first, long last)
    {
        var range = new AccessRange(Interval.Constant(start), Interval.Constant(length), 0, "Bidirectional");
        Assert.Equal(new Interval(first, last), range.PageSpan);
    }

    [Fact]
    public void UnknownRangeHasNoPageSpan()
    {
        var range = new AccessRange(null, Interval.Constant(4096), 0, "Bidirectional");
        Assert.Null(range.PageSpan);
        Assert.False(range.IsConstant);
        Assert.Equal("an unknown range, Bidirectional", range.ToString());
    }

    [Fact]
    public void IntervalContainment()
    {
        Assert.True(new Interval(0, 3).Contains(new Interval(1, 2)));
        Assert.False(new Interval(0, 3).Contains(new Interval(2, 4)));
        Assert.Equal(new Interval(0, 5), Interval.Constant(0).Hull(Interval.Constant(5)));
    }

    [Fact]
    public Task WithoutTheRuntimeNothingIsReported()
    {
        // The same names in the same namespace, but declared in source: not DmaBuf.Runtime, so the analyzer registers nothing.
        var test = AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.CreateTest(LookAlike.Source.Replace("namespace Fake", "namespace DmaBuf") + @"
class C
{
    void M(DmaBuf.DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 4096, DmaBuf.DmaDataDirection.ToDevice);
        var a = buf.KmapAtomic(0);
        var b = buf.KmapAtomic(1);
        var c = buf.KmapAtomic(2);
        buf.Kunmap(5, a);
    }
}");
        test.TestState.AdditionalReferences.Clear();
        return test.RunAsync(System.Threading.CancellationToken.None);
    }

    [Fact]
    public Task AccessorsConstructorsAndExpressionBodies() => Verify(@"
    private readonly DmaBuffer _buf;

    C(DmaBuffer buf)
    {
        _buf = buf;
        var page = buf.Kmap(0);
    {|DMA0003:}|}

    int First => {|DMA0003:_buf.Kmap(0).Span[0]|};

    int Second
    {
        get
        {
            using var page = _buf.Kmap(0);
            return page.Span[1];
        }
    }

    public static C operator +(C left, C right)
    {
        using (left._buf.CpuAccess(0, 4096, DmaDataDirection.FromDevice))
            return left;
    }");

    [Fact]
    public Task ConditionalDisposeSwitchExpressionAndFilters() => Verify(@"
    int M(DmaBuffer buf, int mode, CpuAccessScope? maybe)
    {
        var scope = buf.CpuAccess(0, 4096, DmaDataDirection.FromDevice);
        try
        {
            int page = mode switch { 0 => 0, _ => 1 };
            using var mapped = buf.Kmap(page);
            if (mode > 5)
                throw new InvalidOperationException();
            return mapped.Span[0];
        }
        catch (InvalidOperationException e) when (e.Message.Length > 0)
        {
            return -1;
        }
        finally
        {
            scope?.Dispose();
            maybe?.Dispose();
        }
    }");

    [Fact]
    public Task RecursiveLocalFunctionsAndNestedLambdas() => Verify(@"
    void M(DmaBuffer buf)
    {
        Func<Func<int>> outer = () => () =>
        {
            using var page = buf.KmapAtomic(0);
            return page.Span[0];
        };
        Walk(3);

        void Walk(int n)
        {
            if (n > 0)
                Walk(n - 1);
        }
    }");

    [Fact]
    public Task ManyBranchesStaySilentWhenCorrect() => Verify(@"
    void M(DmaBuffer buf, bool[] f)
    {
        buf.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice);
        if (f[0]) Console.WriteLine(0);
        if (f[1]) Console.WriteLine(1);
        if (f[2]) Console.WriteLine(2);
        if (f[3]) Console.WriteLine(3);
        if (f[4]) Console.WriteLine(4);
        if (f[5]) Console.WriteLine(5);
        if (f[6]) Console.WriteLine(6);
        if (f[7]) Console.WriteLine(7);
        while (f[8])
        {
            using var page = buf.Kmap(0);
            if (f[9]) break;
            if (f[10]) continue;
        }

        buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice);
    }");

    [Fact]
    public Task LambdasInsideTryRegionsOfTheirEnclosingMethod() => Verify(@"
    int M(DmaBuffer buf, List<DmaBuffer> buffers)
    {
        try
        {
            Func<int> read = () =>
            {
                using var page = buf.Kmap(0);
                if (page.Span[0] == 0)
                    throw new InvalidOperationException();
                return page.Span[1];
            };
            return buffers.FindAll(b => b.PageCount > 0).Count + read();
        }
        catch (DmaBufException)
        {
            return -1;
        }
        finally
        {
            buffers.ForEach(b => b.Put());
        }
    }");
}
