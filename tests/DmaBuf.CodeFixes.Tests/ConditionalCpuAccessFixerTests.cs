// Tests of "Take the CPU access on every path" (DMA0007.AccessOnEveryPath): a CPU access scope taken under a
// condition (`c ? null : buf.CpuAccess(...)`) becomes one taken always.
using System.Threading.Tasks;
using Verify = DmaBuf.CodeFixes.Tests.CodeFixVerifier<DmaBuf.Analyzers.Rules.DmaBufFlowAnalyzer, DmaBuf.CodeFixes.ConditionalCpuAccessFixer>;

namespace DmaBuf.CodeFixes.Tests;

public class ConditionalCpuAccessFixerTests
{
    private const string Key = ConditionalCpuAccessFixer.AccessOnEveryPathKey;

    [Fact]
    public Task ConditionalUsingDeclarationIsTakenAlways() => Verify.VerifyAsync(Verify.Class(@"
    byte M(DmaBuffer buf, bool coherent)
    {
        using var access = coherent ? null : buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice); // status
        using var page = {|DMA0007:buf.KmapAtomic(0)|};
        return page.Span[0];
    }"), Verify.Class(@"
    byte M(DmaBuffer buf, bool coherent)
    {
        using var access = buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice); // status
        using var page = buf.KmapAtomic(0);
        return page.Span[0];
    }"), Key);

    // A using statement over the conditional (the scope in the other arm, `default` for the null), a kmap inside.
    [Fact]
    public Task ConditionalUsingStatementIsTakenAlways() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buffer, bool skipSync)
    {
        using ((skipSync) ? (buffer.CpuAccess(2 * DmaBuffer.PageSize, DmaBuffer.PageSize, DmaDataDirection.ToDevice)) : default)
        {
            var page = {|DMA0007:buffer.Kmap(2)|};
            page.Span.Fill(0);
            buffer.Kunmap(2, page);
        }
    }"), Verify.Class(@"
    void M(DmaBuffer buffer, bool skipSync)
    {
        using (buffer.CpuAccess(2 * DmaBuffer.PageSize, DmaBuffer.PageSize, DmaDataDirection.ToDevice))
        {
            var page = buffer.Kmap(2);
            page.Span.Fill(0);
            buffer.Kunmap(2, page);
        }
    }"), Key);

    // Two kmaps under the same conditional scope: one fix covers both, and Fix All makes the same single change.
    [Fact]
    public Task FixAllTakesTheAccessOnce() => Verify.VerifyAsync(Verify.Class(@"
    int M(DmaBuffer buf, bool coherent)
    {
        using var access = coherent ? null : buf.CpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        int sum;
        using (var first = {|DMA0007:buf.Kmap(0)|})
            sum = first.Span[0];
        using (var second = {|DMA0007:buf.Kmap(1)|})
            sum += second.Span[0];
        return sum;
    }"), Verify.Class(@"
    int M(DmaBuffer buf, bool coherent)
    {
        using var access = buf.CpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        int sum;
        using (var first = buf.Kmap(0))
            sum = first.Span[0];
        using (var second = buf.Kmap(1))
            sum += second.Span[0];
        return sum;
    }"), Key);

    // The condition calls a method: dropping it would change what the code does.
    [Fact]
    public Task ConditionWithEffectsIsNotDropped() => Verify.VerifyNoFixAsync(Verify.Class(@"
    static bool Coherent(DmaBuffer buf) { Console.WriteLine(buf.Size); return true; }

    byte M(DmaBuffer buf)
    {
        using var access = Coherent(buf) ? null : buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        using var page = {|DMA0007:buf.KmapAtomic(0)|};
        return page.Span[0];
    }"), Key);

    // The code reads whether it took the scope: taking it always would change what it returns.
    [Fact]
    public Task ScopeTestedByTheCodeIsLeftAlone() => Verify.VerifyNoFixAsync(Verify.Class(@"
    int M(DmaBuffer buf, bool coherent)
    {
        using var access = coherent ? null : buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        using var page = {|DMA0007:buf.KmapAtomic(0)|};
        return access is null ? -1 : page.Span[0];
    }"), Key);
}
