// Tests of "Begin the CPU access on every path" (DMA0007.BeginOnEveryPath, DMA0002.BeginOnEveryPath): a begin under
// an `if` while the access is used or ended on every path loses its condition; not offered where the condition does
// something or where the end is under the same condition.
using System.Threading.Tasks;
using Verify = DmaBuf.CodeFixes.Tests.CodeFixVerifier<DmaBuf.Analyzers.Rules.DmaBufFlowAnalyzer, DmaBuf.CodeFixes.ConditionalBeginFixer>;

namespace DmaBuf.CodeFixes.Tests;

public class ConditionalBeginFixerTests
{
    private const string KmapKey = ConditionalBeginFixer.KmapKey;
    private const string EndKey = ConditionalBeginFixer.EndKey;

    // One fix answers both reports: the kmap and the end then have the access on every path.
    [Fact]
    public Task TheBeginLosesItsCondition() => Verify.VerifyAsync(Verify.Class(@"
    void Clear(DmaBuffer buf, bool coherent)
    {
        if (!coherent)
            buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice); // write back
        using (var page = {|DMA0007:buf.Kmap(0)|})
            page.Span.Clear();
        {|DMA0002:buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice)|};
    }"), Verify.Class(@"
    void Clear(DmaBuffer buf, bool coherent)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice); // write back
        using (var page = buf.Kmap(0))
            page.Span.Clear();
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }"), KmapKey);

    // A braced if, a whole-buffer begin, the comment above the if kept; the end is the only report.
    [Fact]
    public Task ABracedWholeBufferBeginBeforeAnEnd() => Verify.VerifyAsync(Verify.Class(@"
    int _writes;

    void Flush(DmaBuffer buf, int mode)
    {
        // only cached buffers need syncing
        if (mode == 2)
        {
            buf.BeginCpuAccess(DmaDataDirection.Bidirectional);
        }

        _writes++;
        {|DMA0002:buf.EndCpuAccess(DmaDataDirection.Bidirectional)|};
    }"), Verify.Class(@"
    int _writes;

    void Flush(DmaBuffer buf, int mode)
    {
        // only cached buffers need syncing
        buf.BeginCpuAccess(DmaDataDirection.Bidirectional);

        _writes++;
        buf.EndCpuAccess(DmaDataDirection.Bidirectional);
    }"), EndKey);

    // Dropping the call in the condition would change what runs.
    [Fact]
    public Task NoFixWhenTheConditionCallsSomething() => Verify.VerifyNoFixAsync(Verify.Class(@"
    static bool NeedsSync(DmaBuffer buf) => buf.Size > 0;

    void Clear(DmaBuffer buf)
    {
        if (NeedsSync(buf))
            buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        using (var page = {|DMA0007:buf.Kmap(0)|})
            page.Span.Clear();
        {|DMA0002:buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice)|};
    }"), KmapKey);

    // The end is under the same condition: an unconditional begin would be left unended where the condition is false.
    [Fact]
    public Task NoFixWhenTheEndIsUnderTheSameCondition() => Verify.VerifyNoFixAsync(Verify.Class(@"
    void Clear(DmaBuffer buf, bool coherent)
    {
        if (!coherent)
            buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        using (var page = {|DMA0007:buf.Kmap(0)|})
            page.Span.Clear();
        if (!coherent)
            buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }"), KmapKey);

    // Two methods, each with its conditional begin: one Fix All pass.
    [Fact]
    public Task FixAllBeginsEveryConditionalAccess() => Verify.VerifyAsync(Verify.Class(@"
    void A(DmaBuffer buf, bool coherent)
    {
        if (!coherent)
            buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        {|DMA0002:buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice)|};
    }

    void B(DmaBuffer other, bool cached)
    {
        if (cached)
            other.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        {|DMA0002:other.EndCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.ToDevice)|};
    }"), Verify.Class(@"
    void A(DmaBuffer buf, bool coherent)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
    }

    void B(DmaBuffer other, bool cached)
    {
        other.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        other.EndCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }"), EndKey, iterations: 2);
}
