// Whole-buffer CPU access (dma_buf_begin_cpu_access/dma_buf_end_cpu_access without a range, the kernel's since v4.6):
// it pairs with a whole-buffer end in the same direction only, never with a ranged one, and covers every page.
using System;
using static DmaBuf.Runtime.Tests.TestSupport;

namespace DmaBuf.Runtime.Tests;

public class WholeBufferAccessTests
{
    [Fact]
    public void AWholeBufferAccessIsBegunOverTheWholeBufferAndEndedByAWholeBufferEnd()
    {
        TrackingExporter exporter = TrackingExporter.OverSystemHeap();
        const long Size = (3 * PageSize) + 5;
        DmaBuffer buffer = DmaBuffer.Export(exporter, Size);
        buffer.BeginCpuAccess(DmaDataDirection.FromDevice);
        CpuAccessRange begun = Assert.Single(buffer.BegunCpuAccesses);
        Assert.True(begun.IsWholeBuffer);
        Assert.Equal(CpuAccessRange.WholeBuffer(Size, DmaDataDirection.FromDevice), begun);
        Assert.Equal((0, Size, DmaDataDirection.FromDevice), (begun.Start, begun.Length, begun.Direction));
        Assert.NotEqual(new CpuAccessRange(0, Size, DmaDataDirection.FromDevice), begun);
        Assert.Equal(1, exporter.BeginCalls);

        // Every page is inside it.
        Assert.Equal(PageSize, CpuPage(buffer, 3).Length);

        buffer.EndCpuAccess(DmaDataDirection.FromDevice);
        Assert.Empty(buffer.BegunCpuAccesses);
        Assert.Equal(new[] { (0L, Size, DmaDataDirection.FromDevice) }, exporter.EndArguments);
        buffer.Put();
    }

    [Fact]
    public void TheScopeEndsAWholeBufferAccessWithAWholeBufferEnd()
    {
        DmaBuffer buffer = DmaBuffer.Export(new SystemHeapExporter(), Pages(2));
        CpuAccessScope scope = buffer.CpuAccess(DmaDataDirection.Bidirectional);
        Assert.True(scope.IsWholeBuffer);
        Assert.Equal((0L, Pages(2), DmaDataDirection.Bidirectional), (scope.Start, scope.Length, scope.Direction));
        Assert.True(Assert.Single(buffer.BegunCpuAccesses).IsWholeBuffer);

        // A ranged access of the same bytes is another access; the scope ends only its own.
        buffer.BeginCpuAccess(0, Pages(2), DmaDataDirection.Bidirectional);
        scope.Dispose();
        Assert.True(scope.IsEnded);
        Assert.False(Assert.Single(buffer.BegunCpuAccesses).IsWholeBuffer);
        scope.Dispose();
        buffer.EndCpuAccess(0, Pages(2), DmaDataDirection.Bidirectional);
        Assert.Empty(buffer.BegunCpuAccesses);
        Assert.False(buffer.CpuAccess(0, PageSize, DmaDataDirection.None).IsWholeBuffer);
        buffer.EndCpuAccess(0, PageSize, DmaDataDirection.None);
        buffer.Put();
    }

    [Theory]
    [MemberData(nameof(ValidatorModes.OffAndOn), MemberType = typeof(ValidatorModes))]
    public void AWholeBufferEndDoesNotMatchARangedBeginNorTheReverse(bool validator) =>
        ChildProcess.Run<WholeBufferAccessTests>(nameof(MismatchedEnds), validator);

    [Fact]
    public void AnUndefinedDirectionIsRefused()
    {
        DmaBuffer buffer = DmaBuffer.Export(new SystemHeapExporter(), Pages(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.BeginCpuAccess((DmaDataDirection)7));
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.EndCpuAccess((DmaDataDirection)(-1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.CpuAccess((DmaDataDirection)4));
        Assert.Empty(buffer.BegunCpuAccesses);
        buffer.Put();
    }

    [Fact]
    public void WithTheValidatorOnTheLastPutWithAWholeBufferAccessBegunIsDma0001()
    {
        DmaBuffer buffer = DmaBuffer.Export(new SystemHeapExporter(), Pages(1));
        buffer.BeginCpuAccess(DmaDataDirection.ToDevice);
        Assert.Equal("DMA0001", Assert.Throws<DmaBufUsageException>(buffer.Put).RuleId);
        Assert.Equal(1, buffer.ReferenceCount);
        buffer.EndCpuAccess(DmaDataDirection.ToDevice);
        buffer.Put();
        Assert.True(buffer.IsReleased);
        Assert.Throws<ObjectDisposedException>(() => buffer.BeginCpuAccess(DmaDataDirection.ToDevice));
        Assert.Throws<ObjectDisposedException>(() => buffer.EndCpuAccess(DmaDataDirection.ToDevice));
    }

    [Fact]
    public void TheNonCoherentWholeBufferAccessBringsInAndWritesBackEveryByte()
    {
        DmaBuffer buffer = DmaBuffer.Export(new NonCoherentExporter(), Pages(3));
        byte[] fromDevice = Pattern(buffer.Size, seed: 8);
        DeviceWrite(buffer, 0, fromDevice);
        byte[] fromCpu = Pattern(PageSize, seed: 9);
        using (buffer.CpuAccess(DmaDataDirection.Bidirectional))
        {
            for (long page = 0; page < 3; page++)
            {
                Assert.Equal(fromDevice.AsSpan((int)Pages(page), PageSize).ToArray(), CpuPage(buffer, page));
            }

            using DmaBufPage last = buffer.Kmap(2);
            fromCpu.CopyTo(last.Span);
        }

        Assert.Equal(fromCpu, DeviceView(buffer).AsSpan((int)Pages(2), PageSize).ToArray());
        buffer.Put();
    }

    /// <summary>A whole-buffer end after a ranged begin of the same bytes, the reverse, and another direction: DMA0002 with the validator, and never a match.</summary>
    internal static void MismatchedEnds()
    {
        bool validator = DmaBufValidation.IsEnabled;
        TrackingExporter exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));
        var ranged = new CpuAccessRange(0, Pages(2), DmaDataDirection.FromDevice);
        buffer.BeginCpuAccess(ranged.Start, ranged.Length, ranged.Direction);
        CheckRefused(buffer, exporter, validator, () => buffer.EndCpuAccess(DmaDataDirection.FromDevice));
        Assert.Equal(new[] { ranged }, buffer.BegunCpuAccesses);
        buffer.EndCpuAccess(ranged.Start, ranged.Length, ranged.Direction);

        buffer.BeginCpuAccess(DmaDataDirection.ToDevice);
        CpuAccessRange whole = Assert.Single(buffer.BegunCpuAccesses);
        CheckRefused(buffer, exporter, validator, () => buffer.EndCpuAccess(0, Pages(2), DmaDataDirection.ToDevice));
        CheckRefused(buffer, exporter, validator, () => buffer.EndCpuAccess(DmaDataDirection.FromDevice));
        Assert.Equal(new[] { whole }, buffer.BegunCpuAccesses);
        buffer.EndCpuAccess(DmaDataDirection.ToDevice);
        Assert.Empty(buffer.BegunCpuAccesses);

        // Nothing begun: a whole-buffer end matches nothing.
        CheckRefused(buffer, exporter, validator, () => buffer.EndCpuAccess(DmaDataDirection.ToDevice));
        Assert.Empty(buffer.BegunCpuAccesses);
        buffer.Put();
    }

    // With the validator on the end is DMA0002 and reaches no exporter; off, the exporter is told (as for a ranged
    // end that matches nothing) but the begun access stays begun.
    private static void CheckRefused(DmaBuffer buffer, TrackingExporter exporter, bool validator, Action end)
    {
        int ends = exporter.EndCalls;
        CpuAccessRange[] begun = System.Linq.Enumerable.ToArray(buffer.BegunCpuAccesses);
        if (validator)
        {
            Assert.Equal("DMA0002", Assert.Throws<DmaBufUsageException>(end).RuleId);
            Assert.Equal(ends, exporter.EndCalls);
        }
        else
        {
            end();
            Assert.Equal(ends + 1, exporter.EndCalls);
        }

        Assert.Equal(begun, buffer.BegunCpuAccesses);
    }
}
