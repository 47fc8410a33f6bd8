// CPU access in the runtime: begun ranges and their page spans, several at once, scopes that end once, a begin the
// exporter refuses, kmaps and atomic kmaps per thread, pages shared with the device, and disposing pages.
using System;
using System.Linq;
using static DmaBuf.Runtime.Tests.TestSupport;

namespace DmaBuf.Runtime.Tests;

/// <summary>Begin/end CPU access, the CpuAccess scope, kmap/kunmap and their atomic variants, and DmaBufPage.</summary>
public class CpuAccessTests
{
    [Fact]
    public void BeginAndEndTrackTheBegunRangeAndReachTheExporter()
    {
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(3));

        buffer.BeginCpuAccess(100, 5000, DmaDataDirection.FromDevice);

        CpuAccessRange range = Assert.Single(buffer.BegunCpuAccesses);
        Assert.Equal(new CpuAccessRange(100, 5000, DmaDataDirection.FromDevice), range);
        Assert.Equal(1, exporter.BeginCalls);
        Assert.Equal(0, exporter.EndCalls);

        buffer.EndCpuAccess(100, 5000, DmaDataDirection.FromDevice);

        Assert.Empty(buffer.BegunCpuAccesses);
        Assert.Equal(1, exporter.EndCalls);
        Assert.Equal((100L, 5000L, DmaDataDirection.FromDevice), Assert.Single(exporter.EndArguments));
        buffer.Put();
    }

    [Theory]
    [InlineData(0L, 1L, 0L, 0L)]
    [InlineData(0L, 4096L, 0L, 0L)]
    [InlineData(0L, 4097L, 0L, 1L)]
    [InlineData(4095L, 2L, 0L, 1L)]
    [InlineData(4096L, 4096L, 1L, 1L)]
    [InlineData(100L, 3L * 4096, 0L, 3L)]
    [InlineData(8191L, 1L, 1L, 1L)]
    public void TheRangesPageSpanCountsPartialPagesAsInside(long start, long length, long first, long last)
    {
        var range = new CpuAccessRange(start, length, DmaDataDirection.Bidirectional);

        Assert.Equal(first, range.FirstPage);
        Assert.Equal(last, range.LastPage);
        // Written as the analyzers write a range: first..last byte, the direction, then the page span.
        string pages = first == last ? $"pages {first}" : $"pages {first}..{last}";
        Assert.Equal($"bytes {start}..{start + length - 1}, Bidirectional, {pages}", range.ToString());
    }

    [Fact]
    public void SeveralAccessesMayBeBegunAtOnceAndEachEndEndsOne()
    {
        DmaBuffer buffer = DmaBuffer.Export(new SystemHeapExporter(), Pages(4));
        var a = new CpuAccessRange(0, PageSize, DmaDataDirection.ToDevice);
        var b = new CpuAccessRange(Pages(2), Pages(2), DmaDataDirection.FromDevice);

        buffer.BeginCpuAccess(a.Start, a.Length, a.Direction);
        buffer.BeginCpuAccess(b.Start, b.Length, b.Direction);
        buffer.BeginCpuAccess(a.Start, a.Length, a.Direction);

        Assert.Equal(new[] { a, b, a }, buffer.BegunCpuAccesses);
        buffer.EndCpuAccess(a.Start, a.Length, a.Direction);
        Assert.Equal(new[] { b, a }, buffer.BegunCpuAccesses);
        buffer.EndCpuAccess(b.Start, b.Length, b.Direction);
        buffer.EndCpuAccess(a.Start, a.Length, a.Direction);
        Assert.Empty(buffer.BegunCpuAccesses);
        buffer.Put();
    }

    [Fact]
    public void TheScopeBeginsAndItsDisposeEndsWithTheSameArguments()
    {
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));

        CpuAccessScope scope = buffer.CpuAccess(10, 5000, DmaDataDirection.Bidirectional);

        Assert.Same(buffer, scope.Buffer);
        Assert.Equal(10, scope.Start);
        Assert.Equal(5000, scope.Length);
        Assert.Equal(DmaDataDirection.Bidirectional, scope.Direction);
        Assert.False(scope.IsEnded);
        Assert.Equal(new[] { new CpuAccessRange(10, 5000, DmaDataDirection.Bidirectional) }, buffer.BegunCpuAccesses);

        scope.Dispose();

        Assert.True(scope.IsEnded);
        Assert.Empty(buffer.BegunCpuAccesses);
        Assert.Equal((10L, 5000L, DmaDataDirection.Bidirectional), Assert.Single(exporter.EndArguments));
        buffer.Put();
    }

    [Fact]
    public void DisposingAScopeTwiceEndsItsAccessOnce()
    {
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));
        CpuAccessScope first = buffer.CpuAccess(0, PageSize, DmaDataDirection.FromDevice);
        CpuAccessScope second = buffer.CpuAccess(0, PageSize, DmaDataDirection.FromDevice);

        first.Dispose();
        first.Dispose();

        Assert.Equal(1, exporter.EndCalls);
        Assert.Single(buffer.BegunCpuAccesses);
        Assert.False(second.IsEnded);
        second.Dispose();
        Assert.Empty(buffer.BegunCpuAccesses);
        Assert.Equal(2, exporter.EndCalls);
        buffer.Put();
    }

    [Fact]
    public void ABeginTheExporterCannotPrepareCarriesItsErrnoAndBeginsNothing()
    {
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));
        buffer.BeginCpuAccess(0, PageSize, DmaDataDirection.ToDevice);
        exporter.OnBeginCpuAccess = (_, _, _) => throw new DmaBufException(Errno.ENOMEM, "cannot pin");
        BufferState before = BufferState.Of(buffer);

        var begin = Assert.Throws<DmaBufException>(() => buffer.BeginCpuAccess(PageSize, PageSize, DmaDataDirection.FromDevice));
        var scope = Assert.Throws<DmaBufException>(() => buffer.CpuAccess(PageSize, PageSize, DmaDataDirection.FromDevice));

        Assert.Equal(Errno.ENOMEM, begin.Errno);
        Assert.Equal(Errno.ENOMEM, scope.Errno);
        before.AssertUnchanged();
        Assert.Equal(0, exporter.EndCalls);
        exporter.OnBeginCpuAccess = null;
        buffer.EndCpuAccess(0, PageSize, DmaDataDirection.ToDevice);
        buffer.Put();
    }

    [Fact]
    public void KmapMapsOnePageAndKunmapGivesItBackToTheExporter()
    {
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(3));
        buffer.BeginCpuAccess(0, Pages(3), DmaDataDirection.Bidirectional);

        DmaBufPage page = buffer.Kmap(2);

        Assert.Equal(2, page.PageNumber);
        Assert.False(page.IsAtomic);
        Assert.Same(buffer, page.Buffer);
        Assert.NotEqual(0, page.Address);
        Assert.Equal(0, page.Address % PageSize);
        Assert.Equal(PageSize, page.Span.Length);
        Assert.Equal(1, buffer.MappedPageCount);
        Assert.Equal(1, exporter.KmapCalls);
        Assert.Equal(0, DmaBufValidation.AtomicMappingsHeldByCurrentThread);
        Assert.Contains("page 2", page.ToString(), StringComparison.Ordinal);

        buffer.Kunmap(2, page);

        Assert.Equal(0, buffer.MappedPageCount);
        Assert.Equal(1, exporter.KunmapCalls);
        Assert.Equal((2L, page.Address), exporter.LastKunmap);
        Assert.Equal(0, exporter.KunmapAtomicCalls);
        buffer.EndCpuAccess(0, Pages(3), DmaDataDirection.Bidirectional);
        buffer.Put();
    }

    [Fact]
    public void KmapAtomicMapsOnePageHeldByThisThreadUntilKunmapAtomic()
    {
        OnOwnThread(() =>
        {
            var exporter = TrackingExporter.OverSystemHeap();
            DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(3));
            buffer.BeginCpuAccess(Pages(1), Pages(2), DmaDataDirection.FromDevice);

            DmaBufPage first = buffer.KmapAtomic(1);
            DmaBufPage second = buffer.KmapAtomic(2);

            Assert.True(first.IsAtomic);
            Assert.Equal(1, first.PageNumber);
            Assert.Equal(PageSize, first.Span.Length);
            Assert.Equal(2, DmaBufValidation.AtomicMappingsHeldByCurrentThread);
            Assert.Equal(2, buffer.MappedPageCount);
            Assert.Equal(2, exporter.KmapAtomicCalls);
            Assert.Contains("atomic", first.ToString(), StringComparison.Ordinal);
            Assert.Equal(0, OnOwnThread(() => DmaBufValidation.AtomicMappingsHeldByCurrentThread));

            buffer.KunmapAtomic(2, second);
            Assert.Equal(1, DmaBufValidation.AtomicMappingsHeldByCurrentThread);
            Assert.Equal((2L, second.Address), exporter.LastKunmapAtomic);
            buffer.KunmapAtomic(1, first);

            Assert.Equal(0, DmaBufValidation.AtomicMappingsHeldByCurrentThread);
            Assert.Equal(0, buffer.MappedPageCount);
            Assert.Equal(2, exporter.KunmapAtomicCalls);
            Assert.Equal(0, exporter.KunmapCalls);
            buffer.EndCpuAccess(Pages(1), Pages(2), DmaDataDirection.FromDevice);
            buffer.Put();
        });
    }

    [Fact]
    public void APageMayBeMappedAgainAndAgainWithinOneAccess()
    {
        DmaBuffer buffer = DmaBuffer.Export(new SystemHeapExporter(), Pages(2));
        using (buffer.CpuAccess(0, PageSize, DmaDataDirection.ToDevice))
        {
            DmaBufPage first = buffer.Kmap(0);
            DmaBufPage second = buffer.Kmap(0);

            Assert.Equal(first.Address, second.Address);
            Assert.NotEqual(first, second);
            Assert.True(first != second);
            Assert.False(first.Equals((object)second));
            Assert.Equal(first, first);
            Assert.Equal(2, buffer.MappedPageCount);
            buffer.Kunmap(0, first);
            buffer.Kunmap(0, second);

            for (int i = 0; i < 5; i++)
            {
                buffer.Kunmap(0, buffer.Kmap(0));
            }

            Assert.Equal(0, buffer.MappedPageCount);
        }

        buffer.Put();
    }

    [Fact]
    public unsafe void ThePagesSpanIsThePageItselfWithNoCopy()
    {
        DmaBuffer buffer = DmaBuffer.Export(new SystemHeapExporter(), Pages(3));
        var device = new Device("dev");
        DmaBufAttachment attachment = buffer.Attach(device);
        ScatterGatherTable table = buffer.MapAttachment(attachment, DmaDataDirection.Bidirectional);
        buffer.BeginCpuAccess(0, Pages(3), DmaDataDirection.Bidirectional);
        DmaBufPage page = buffer.Kmap(1);

        fixed (byte* p = page.Span)
        {
            Assert.Equal(page.Address, (nint)p);
        }

        Assert.Equal(page.Address, AddressOf(table, Pages(1)));

        // What the CPU writes through the span is what the device reads at that page.
        byte[] written = Pattern(PageSize, seed: 21);
        written.CopyTo(page.Span);
        var read = new byte[PageSize];
        device.DmaRead(table, Pages(1), read);
        Assert.Equal(written, read);
        var neighbours = new byte[PageSize];
        device.DmaRead(table, 0, neighbours);
        Assert.All(neighbours, b => Assert.Equal(0, b));

        // And what the device writes shows through the same span, without mapping again.
        byte[] fromDevice = Pattern(PageSize, seed: 22);
        device.DmaWrite(table, Pages(1), fromDevice);
        Assert.Equal(fromDevice, page.Span.ToArray());

        buffer.Kunmap(1, page);
        buffer.EndCpuAccess(0, Pages(3), DmaDataDirection.Bidirectional);
        buffer.UnmapAttachment(attachment, table);
        buffer.Detach(attachment);
        buffer.Put();
    }

    [Fact]
    public void AnAtomicPagesSpanReachesTheDeviceToo()
    {
        OnOwnThread(() =>
        {
            DmaBuffer buffer = DmaBuffer.Export(new SystemHeapExporter(), Pages(2));
            var device = new Device("dev");
            DmaBufAttachment attachment = buffer.Attach(device);
            ScatterGatherTable table = buffer.MapAttachment(attachment, DmaDataDirection.ToDevice);
            buffer.BeginCpuAccess(0, Pages(2), DmaDataDirection.ToDevice);
            byte[] written = Pattern(PageSize, seed: 4);

            DmaBufPage page = buffer.KmapAtomic(1);
            written.CopyTo(page.Span);
            buffer.KunmapAtomic(1, page);

            var read = new byte[PageSize];
            device.DmaRead(table, Pages(1), read);
            Assert.Equal(written, read);
            buffer.EndCpuAccess(0, Pages(2), DmaDataDirection.ToDevice);
            buffer.UnmapAttachment(attachment, table);
            buffer.Detach(attachment);
            buffer.Put();
        });
    }

    [Fact]
    public void TheLastPartialPageIsAWholePageToTheCpu()
    {
        DmaBuffer buffer = DmaBuffer.Export(new SystemHeapExporter(), Pages(2) + 10);
        Assert.Equal(3, buffer.PageCount);

        using (buffer.CpuAccess(Pages(2), 10, DmaDataDirection.ToDevice))
        using (DmaBufPage page = buffer.Kmap(2))
        {
            Assert.Equal(PageSize, page.Span.Length);
            page.Span.Slice(0, 10).Fill(0x5A);
        }

        byte[] view = DeviceView(buffer);
        Assert.Equal(Enumerable.Repeat((byte)0x5A, 10), view.Skip((int)Pages(2)));
        buffer.Put();
    }

    [Fact]
    public void DisposingAPageUnmapsItWithKunmap()
    {
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));
        buffer.BeginCpuAccess(0, Pages(2), DmaDataDirection.ToDevice);
        DmaBufPage page = buffer.Kmap(1);

        page.Dispose();

        Assert.Equal(1, exporter.KunmapCalls);
        Assert.Equal(0, exporter.KunmapAtomicCalls);
        Assert.Equal((1L, page.Address), exporter.LastKunmap);
        Assert.Equal(0, buffer.MappedPageCount);
        buffer.EndCpuAccess(0, Pages(2), DmaDataDirection.ToDevice);
        buffer.Put();
    }

    [Fact]
    public void DisposingAnAtomicPageUnmapsItWithKunmapAtomic()
    {
        OnOwnThread(() =>
        {
            var exporter = TrackingExporter.OverSystemHeap();
            DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));
            buffer.BeginCpuAccess(0, Pages(2), DmaDataDirection.ToDevice);
            nint address;
            using (DmaBufPage page = buffer.KmapAtomic(1))
            {
                address = page.Address;
                Assert.Equal(1, DmaBufValidation.AtomicMappingsHeldByCurrentThread);
            }

            Assert.Equal(1, exporter.KunmapAtomicCalls);
            Assert.Equal(0, exporter.KunmapCalls);
            Assert.Equal((1L, address), exporter.LastKunmapAtomic);
            Assert.Equal(0, buffer.MappedPageCount);
            Assert.Equal(0, DmaBufValidation.AtomicMappingsHeldByCurrentThread);
            buffer.EndCpuAccess(0, Pages(2), DmaDataDirection.ToDevice);
            buffer.Put();
        });
    }

    [Fact]
    public void AnAccessBegunOnOneThreadCoversKmapsOnAnother()
    {
        DmaBuffer buffer = DmaBuffer.Export(new SystemHeapExporter(), Pages(2));
        buffer.BeginCpuAccess(0, Pages(2), DmaDataDirection.ToDevice);

        DmaBufPage page = OnOwnThread(() => buffer.Kmap(1));
        Assert.Equal(1, buffer.MappedPageCount);
        buffer.Kunmap(1, page);

        OnOwnThread(() =>
        {
            using DmaBufPage atomic = buffer.KmapAtomic(0);
            Assert.Equal(1, DmaBufValidation.AtomicMappingsHeldByCurrentThread);
        });

        Assert.Equal(0, buffer.MappedPageCount);
        buffer.EndCpuAccess(0, Pages(2), DmaDataDirection.ToDevice);
        buffer.Put();
    }

    [Fact]
    public void PagesOfTheNonCoherentExporterAreMappedFromItsCpuView()
    {
        DmaBuffer buffer = DmaBuffer.Export(new NonCoherentExporter(), Pages(2));
        DmaBufAttachment attachment = buffer.Attach(new Device("dev"));
        ScatterGatherTable table = buffer.MapAttachment(attachment, DmaDataDirection.ToDevice);
        buffer.BeginCpuAccess(0, Pages(2), DmaDataDirection.ToDevice);

        DmaBufPage page = buffer.Kmap(1);

        Assert.Equal(PageSize, page.Span.Length);
        Assert.NotEqual(AddressOf(table, Pages(1)), page.Address);
        buffer.Kunmap(1, page);
        buffer.EndCpuAccess(0, Pages(2), DmaDataDirection.ToDevice);
        buffer.UnmapAttachment(attachment, table);
        buffer.Detach(attachment);
        buffer.Put();
    }
}
