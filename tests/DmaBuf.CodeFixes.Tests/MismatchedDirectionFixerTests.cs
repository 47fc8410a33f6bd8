// Tests of "Begin and end the access Bidirectional" (DMA0002.Bidirectional): a read begun FromDevice and written back
// ToDevice over a symbolic range, in a helper-free method; no fix when the ranges differ.
using System.Threading.Tasks;
using Verify = DmaBuf.CodeFixes.Tests.CodeFixVerifier<DmaBuf.Analyzers.Rules.DmaBufFlowAnalyzer, DmaBuf.CodeFixes.MismatchedDirectionFixer>;

namespace DmaBuf.CodeFixes.Tests;

public class MismatchedDirectionFixerTests
{
    private const string Key = MismatchedDirectionFixer.BidirectionalKey;

    [Fact]
    public Task BothCallsBecomeBidirectional() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf, byte from, byte to)
    {
        buf.BeginCpuAccess(0, buf.Size, DmaDataDirection.FromDevice); // read what the device wrote
        using (var page = buf.Kmap(0))
            page.Span.Replace(from, to);
        {|DMA0002:buf.EndCpuAccess(0, buf.Size, DmaDataDirection.ToDevice)|};
    }"), Verify.Class(@"
    void M(DmaBuffer buf, byte from, byte to)
    {
        buf.BeginCpuAccess(0, buf.Size, DmaDataDirection.Bidirectional); // read what the device wrote
        using (var page = buf.Kmap(0))
            page.Span.Replace(from, to);
        buf.EndCpuAccess(0, buf.Size, DmaDataDirection.Bidirectional);
    }"), Key);

    [Fact]
    public Task NoFixWhenTheRangesDiffer() => Verify.VerifyNoFixAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        using (var page = buf.Kmap(0))
            page.Span.Clear();
        {|DMA0002:buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice)|};
    }"), Key);

    [Fact]
    public Task WholeBufferCallsBecomeBidirectional() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf, byte from, byte to)
    {
        buf.BeginCpuAccess(DmaDataDirection.FromDevice);
        using (var page = buf.Kmap(0))
            page.Span.Replace(from, to);
        {|DMA0002:buf.EndCpuAccess(DmaDataDirection.ToDevice)|};
    }"), Verify.Class(@"
    void M(DmaBuffer buf, byte from, byte to)
    {
        buf.BeginCpuAccess(DmaDataDirection.Bidirectional);
        using (var page = buf.Kmap(0))
            page.Span.Replace(from, to);
        buf.EndCpuAccess(DmaDataDirection.Bidirectional);
    }"), Key);

    // A ranged end of a whole-buffer access is another range, not another direction.
    [Fact]
    public Task NoFixWhenOnlyOneCallIsWholeBuffer() => Verify.VerifyNoFixAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(DmaDataDirection.FromDevice);
        using (var page = buf.Kmap(0))
            page.Span.Clear();
        {|DMA0002:buf.EndCpuAccess(0, buf.Size, DmaDataDirection.ToDevice)|};
    }"), Key);
}
