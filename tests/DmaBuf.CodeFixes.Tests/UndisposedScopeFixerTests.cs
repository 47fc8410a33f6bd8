// Tests of "Dispose the CPU access scope at the end of the block" (DMA0001.UsingScope): a scope kept in a local that
// is never disposed, one from a helper; no fix when the local is disposed on some path.
using System.Threading.Tasks;
using Verify = DmaBuf.CodeFixes.Tests.CodeFixVerifier<DmaBuf.Analyzers.Rules.DmaBufFlowAnalyzer, DmaBuf.CodeFixes.UndisposedScopeFixer>;

namespace DmaBuf.CodeFixes.Tests;

public class UndisposedScopeFixerTests
{
    private const string Key = UndisposedScopeFixer.UsingScopeKey;

    [Fact]
    public Task ScopeBecomesAUsingDeclaration() => Verify.VerifyAsync(Verify.Class(@"
    int M(DmaBuffer buffer)
    {
        // read the header
        var scope = buffer.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        using DmaBufPage page = buffer.Kmap(0);
        {|DMA0001:return page.Span[0];|}
    }"), Verify.Class(@"
    int M(DmaBuffer buffer)
    {
        // read the header
        using var scope = buffer.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        using DmaBufPage page = buffer.Kmap(0);
        return page.Span[0];
    }"), Key);

    [Fact]
    public Task WholeBufferScopeBecomesAUsingDeclaration() => Verify.VerifyAsync(Verify.Class(@"
    int M(DmaBuffer buffer)
    {
        var scope = buffer.CpuAccess(DmaDataDirection.FromDevice);
        using DmaBufPage page = buffer.Kmap(0);
        {|DMA0001:return page.Span[0];|}
    }"), Verify.Class(@"
    int M(DmaBuffer buffer)
    {
        using var scope = buffer.CpuAccess(DmaDataDirection.FromDevice);
        using DmaBufPage page = buffer.Kmap(0);
        return page.Span[0];
    }"), Key);

    [Fact]
    public Task ScopeFromAHelper() => Verify.VerifyAsync(Verify.Class(@"
    static CpuAccessScope Read(DmaBuffer b) => b.CpuAccess(0, b.Size, DmaDataDirection.FromDevice);

    int M(DmaBuffer buf)
    {
        CpuAccessScope access = Read(buf);
        using var page = buf.Kmap(0);
        {|DMA0001:return page.Span[0];|}
    }"), Verify.Class(@"
    static CpuAccessScope Read(DmaBuffer b) => b.CpuAccess(0, b.Size, DmaDataDirection.FromDevice);

    int M(DmaBuffer buf)
    {
        using CpuAccessScope access = Read(buf);
        using var page = buf.Kmap(0);
        return page.Span[0];
    }"), Key);

    [Fact]
    public Task NoFixWhenTheScopeIsDisposedOnSomePath() => Verify.VerifyNoFixAsync(Verify.Class(@"
    int M(DmaBuffer buf, bool quick)
    {
        var scope = buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        if (quick)
            {|DMA0001:return 0;|}
        scope.Dispose();
        return 1;
    }"), Key);
}
