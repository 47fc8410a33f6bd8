// Atomic mappings and threads: an atomic mapping unmapped on another thread (after an await that
// resumed elsewhere, or a hand-off) is reported once as DMA0005 naming both threads and is then forgotten, and a
// thread that exits holding one does not pin the buffer. With the validator off both are simply allowed.
using System;
using System.Threading;
using System.Threading.Tasks;
using static DmaBuf.Runtime.Tests.TestSupport;

namespace DmaBuf.Runtime.Tests;

public class AtomicThreadSwitchTests
{
    private static void AssertDma0005NamingBothThreads(DmaBufUsageException e, int mapper, int unmapper)
    {
        Assert.Equal("DMA0005", e.RuleId);
        Assert.Contains($"thread {mapper}", e.Message, StringComparison.Ordinal);
        Assert.Contains($"thread {unmapper}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnAtomicMappingUnmappedOnAnotherThreadIsReportedOnceAsDma0005AndForgotten()
    {
        OnOwnThread(() =>
        {
            var exporter = TrackingExporter.OverSystemHeap();
            DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));
            buffer.BeginCpuAccess(0, Pages(2), DmaDataDirection.ToDevice);
            DmaBufPage page = buffer.KmapAtomic(0);
            int mapper = Environment.CurrentManagedThreadId;

            int unmapper = OnOwnThread(() =>
            {
                var e = Assert.Throws<DmaBufUsageException>(() => buffer.KunmapAtomic(0, page));
                AssertDma0005NamingBothThreads(e, mapper, Environment.CurrentManagedThreadId);
                Assert.Equal(0, DmaBufValidation.AtomicMappingsHeldByCurrentThread);
                return Environment.CurrentManagedThreadId;
            });

            // The mapping is unmapped, and this thread no longer counts it: it may block again, and the buffer can be put.
            Assert.NotEqual(mapper, unmapper);
            Assert.Equal(1, exporter.KunmapAtomicCalls);
            Assert.Equal(0, buffer.MappedPageCount);
            Assert.Equal(0, DmaBufValidation.AtomicMappingsHeldByCurrentThread);
            DmaBufValidation.MightSleep();
            Assert.Equal("DMA0003", Assert.Throws<DmaBufUsageException>(() => buffer.KunmapAtomic(0, page)).RuleId);
            Assert.Throws<ObjectDisposedException>(() => page.Span[0]);
            buffer.EndCpuAccess(0, Pages(2), DmaDataDirection.ToDevice);
            buffer.Put();
            Assert.True(buffer.IsReleased);
        });
    }

    [Fact]
    public void AnAtomicMappingHeldAcrossAnAwaitThatResumesOnAnotherThreadIsDma0005()
    {
        OnOwnThread(() =>
        {
            DmaBuffer buffer = DmaBuffer.Export(new SystemHeapExporter(), Pages(2));
            buffer.BeginCpuAccess(0, Pages(2), DmaDataDirection.ToDevice);
            int mapper = Environment.CurrentManagedThreadId;
            int resumedOn = 0;

            async Task HoldAcrossAwait()
            {
                DmaBufPage page = buffer.KmapAtomic(1);
                await Task.Delay(1).ConfigureAwait(false);
                resumedOn = Environment.CurrentManagedThreadId;
                buffer.KunmapAtomic(1, page);
            }

            // This thread is no pool thread, so the continuation runs on another one.
            var e = Assert.Throws<DmaBufUsageException>(() => HoldAcrossAwait().GetAwaiter().GetResult());

            AssertDma0005NamingBothThreads(e, mapper, resumedOn);
            Assert.Equal(0, DmaBufValidation.AtomicMappingsHeldByCurrentThread);
            Assert.Equal(0, buffer.MappedPageCount);
            DmaBufValidation.MightSleep();
            buffer.EndCpuAccess(0, Pages(2), DmaDataDirection.ToDevice);
            buffer.Put();
        });
    }

    [Fact]
    public void AThreadThatExitsHoldingAnAtomicMappingIsReportedOnceAndDoesNotPinTheBuffer()
    {
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));
        buffer.BeginCpuAccess(0, Pages(2), DmaDataDirection.ToDevice);
        var holder = new Thread(() => buffer.KmapAtomic(1)) { Name = "exits holding a mapping" };
        holder.Start();
        holder.Join();
        buffer.EndCpuAccess(0, Pages(2), DmaDataDirection.ToDevice);
        Assert.Equal(1, buffer.MappedPageCount);

        var e = Assert.Throws<DmaBufUsageException>(buffer.Put);

        Assert.Equal("DMA0003", e.RuleId);
        Assert.Contains("exited", e.Message, StringComparison.Ordinal);
        Assert.Contains($"thread {holder.ManagedThreadId}", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, buffer.ReferenceCount);
        Assert.Equal(0, buffer.MappedPageCount);
        Assert.Equal(1, exporter.KunmapAtomicCalls);
        buffer.Put();
        Assert.True(buffer.IsReleased);
        Assert.Equal(1, exporter.ReleaseCalls);
    }

    [Fact]
    public void WithTheValidatorOffAnAtomicMappingMayBeUnmappedOnAnotherThread() =>
        ChildProcess.Run<AtomicThreadSwitchTests>(nameof(UnmapOnAnotherThread), validator: false);

    internal static void UnmapOnAnotherThread()
    {
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));
        buffer.BeginCpuAccess(0, Pages(2), DmaDataDirection.ToDevice);
        DmaBufPage page = buffer.KmapAtomic(0);

        OnOwnThread(() => buffer.KunmapAtomic(0, page));

        Assert.Equal(1, exporter.KunmapAtomicCalls);
        Assert.Equal(0, buffer.MappedPageCount);
        Assert.Throws<ObjectDisposedException>(() => buffer.KunmapAtomic(0, page));
        buffer.EndCpuAccess(0, Pages(2), DmaDataDirection.ToDevice);
        buffer.Put();
        Assert.True(buffer.IsReleased);
    }
}
