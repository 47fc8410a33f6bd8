// Symbolic values: the same expression over unchanged operands is the same range or page, an exported buffer's constant
// size bounds its loops, tuples carry values and mappings; an operand written in between may be any value (silent).
using System.Threading.Tasks;
using Microsoft.CodeAnalysis.Testing;

namespace DmaBuf.Analyzers.Tests.Engine;

// Symbolic values: the same expression over operands that did not change is the same value (for ranges and pages),
// so an end with the same expression matches its begin and one with another known direction does not (DMA0002);
// a buffer exported in the method with a constant size has a constant Size and PageCount; a loop counter bounded
// by them takes known values (DMA0006 on some iteration). Tuples carry values and holders.
// Deliberately silent: an expression whose operands were written between the begin and the end (it may be another
// value; the end is taken as possibly matching); a loop bounded by the PageCount of a buffer of unknown size.
public class SymbolicValueTests
{
    private static Task Verify(string members) => AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(FlowTestCode.Class(members));

    [Fact]
    public Task Valid_SameExpressionIsTheSameValue() => Verify(@"
    void M(DmaBuffer buf, DmaDataDirection dir)
    {
        buf.BeginCpuAccess(0, buf.Size, dir);
        for (long p = 0; p < buf.PageCount; p++)
        {
            using var page = buf.Kmap(p);
            Checksum(page.Span);
        }

        buf.EndCpuAccess(0, buf.Size, dir);
    }");

    [Fact]
    public Task OtherDirectionForCertain()
    {
        string source = FlowTestCode.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        buf.EndCpuAccess(0, buf.Size, DmaDataDirection.ToDevice);
    }");
        DiagnosticResult end = new DiagnosticResult(RuleDescriptors.DMA0002).WithSpan(13, 9, 13, 65).WithSpan(12, 9, 12, 69)
            .WithArguments("buf", "bytes 0..buf.Size - 1, ToDevice", "the access begun at line 12 is bytes 0..buf.Size - 1, FromDevice");
        // The mismatched end is taken to end the access it was meant for: it is reported once, not again as left open.
        return AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(source, end);
    }

    [Fact]
    public Task Valid_OperandWrittenInBetweenMayBeAnyValue() => Verify(@"
    void M(DmaBuffer buf, long length)
    {
        buf.BeginCpuAccess(0, length, DmaDataDirection.FromDevice);
        length = length * 2;
        buf.EndCpuAccess(0, length, DmaDataDirection.FromDevice);
    }");

    [Fact]
    public Task ExportedBufferHasAConstantPageCount() => Verify(@"
    void M(DmaBufExporter exporter)
    {
        var buf = DmaBuffer.Export(exporter, 4 * DmaBuffer.PageSize);
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        for (long p = 0; p < buf.PageCount; p++)
        {
            using var page = {|DMA0006:buf.Kmap(p)|};
            Checksum(page.Span);
        }

        buf.EndCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        buf.Put();
    }");

    [Fact]
    public Task Valid_ExportedBufferLoopInsideTheWholeBuffer() => Verify(@"
    void M(DmaBufExporter exporter)
    {
        var buf = DmaBuffer.Export(exporter, 3 * DmaBuffer.PageSize + 10);
        buf.BeginCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        for (long p = 0; p < buf.PageCount; p++)
        {
            using var page = buf.Kmap(p);
            Checksum(page.Span);
        }

        buf.EndCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        buf.Put();
    }");

    [Fact]
    public Task Valid_LoopOverAParameterBufferIsSilent() => Verify(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        for (long p = 0; p < buf.PageCount; p++)
        {
            using var page = buf.Kmap(p);
            Checksum(page.Span);
        }

        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
    }");

    [Fact]
    public Task TupleDeconstructionCarriesValues() => Verify(@"
    void M(DmaBuffer buf)
    {
        var (start, length) = (0, 2 * DmaBuffer.PageSize);
        buf.BeginCpuAccess(start, length, DmaDataDirection.FromDevice);
        using (var page = {|DMA0006:buf.Kmap(2)|})
            Checksum(page.Span);
        buf.EndCpuAccess(start, length, DmaDataDirection.FromDevice);
    }");

    [Fact]
    public Task TupleDeconstructionCarriesHolders() => Verify(@"
    void Valid(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        var (lo, hi) = (buf.KmapAtomic(0), buf.KmapAtomic(1));
        Checksum(lo.Span);
        buf.KunmapAtomic(1, hi);
        buf.KunmapAtomic(0, lo);
        buf.EndCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
    }

    void Leaks(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        var (lo, hi) = (buf.KmapAtomic(0), buf.KmapAtomic(1));
        buf.KunmapAtomic(0, lo);
        {|DMA0005:buf.EndCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice)|};
    {|DMA0003:}|}");

    [Fact]
    public Task PageNumbersThatDifferByAConstant() => Verify(@"
    void Next(DmaBuffer buf, long n)
    {
        using var access = buf.CpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        var page = buf.Kmap(n);
        {|DMA0003:buf.Kunmap(n + 1, page)|};
    }

    void Valid(DmaBuffer buf, long n)
    {
        using var access = buf.CpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        var page = buf.Kmap(n);
        n++;
        buf.Kunmap(n - 1, page);
    }");
}
