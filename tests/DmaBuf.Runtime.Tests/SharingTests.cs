// Sharing a buffer: export and page counts, descriptors and Get taking references, release exactly once in any order,
// attach/detach, mapping tables, what the exporters allocate, and attach or map failures that change nothing.
using System;
using System.Linq;
using static DmaBuf.Runtime.Tests.TestSupport;

namespace DmaBuf.Runtime.Tests;

/// <summary>Export, descriptors, references and release, attach/detach and map/unmap of attachments.</summary>
public class SharingTests
{
    [Theory]
    [InlineData(1L, 1L)]
    [InlineData(4095L, 1L)]
    [InlineData(4096L, 1L)]
    [InlineData(4097L, 2L)]
    [InlineData(3L * 4096, 3L)]
    public void ExportGivesTheCallerOneReferenceAndRoundsPagesUp(long size, long pages)
    {
        var exporter = new SystemHeapExporter();

        DmaBuffer buffer = DmaBuffer.Export(exporter, size, flags: 2);

        Assert.Equal(size, buffer.Size);
        Assert.Equal(pages, buffer.PageCount);
        Assert.Equal(2, buffer.Flags);
        Assert.Equal(1, buffer.ReferenceCount);
        Assert.False(buffer.IsReleased);
        Assert.Same(exporter, buffer.Exporter);
        Assert.Same(buffer, exporter.Buffer);
        Assert.Empty(buffer.Attachments);
        Assert.Empty(buffer.BegunCpuAccesses);
        Assert.Equal(0, buffer.MappedTableCount);
        Assert.Equal(0, buffer.MappedPageCount);
        buffer.Put();
    }

    [Fact]
    public void EveryBufferHasItsOwnId()
    {
        DmaBuffer first = DmaBuffer.Export(new SystemHeapExporter(), PageSize);
        DmaBuffer second = DmaBuffer.Export(new SystemHeapExporter(), PageSize);

        Assert.NotEqual(first.Id, second.Id);
        Assert.Contains(first.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), first.ToString(), StringComparison.Ordinal);
        first.Put();
        second.Put();
    }

    [Fact]
    public void TheLastPutReleasesExactlyOnceAndUnbindsTheExporter()
    {
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));

        buffer.Put();

        Assert.True(buffer.IsReleased);
        Assert.Equal(0, buffer.ReferenceCount);
        Assert.Equal(1, exporter.ReleaseCalls);
        Assert.Same(buffer, exporter.ReleasedBuffer);
        Assert.Null(exporter.Buffer);
    }

    [Fact]
    public void AnExporterBacksOneBufferUntilItsRelease()
    {
        var exporter = new SystemHeapExporter();
        DmaBuffer first = DmaBuffer.Export(exporter, PageSize);

        Assert.Throws<ArgumentException>("exporter", () => DmaBuffer.Export(exporter, PageSize));
        Assert.Same(first, exporter.Buffer);
        Assert.Equal(1, first.ReferenceCount);

        first.Put();
        DmaBuffer second = DmaBuffer.Export(exporter, Pages(3));
        Assert.Same(second, exporter.Buffer);
        Assert.NotSame(first, second);
        Assert.Equal(3, second.PageCount);
        second.Put();
        Assert.Null(exporter.Buffer);
    }

    [Fact]
    public void ADescriptorHoldsAReferenceUntilItIsClosed()
    {
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, PageSize);

        int fd = buffer.Fd();
        Assert.True(fd > 0);
        Assert.Equal(2, buffer.ReferenceCount);

        buffer.Put();
        Assert.False(buffer.IsReleased);
        Assert.Equal(1, buffer.ReferenceCount);
        Assert.Equal(0, exporter.ReleaseCalls);

        DmaBuffer imported = DmaBuffer.Get(fd);
        Assert.Same(buffer, imported);
        Assert.Equal(2, buffer.ReferenceCount);
        imported.Put();
        Assert.Equal(1, buffer.ReferenceCount);

        DmaBuffer.CloseFd(fd);
        Assert.True(buffer.IsReleased);
        Assert.Equal(0, buffer.ReferenceCount);
        Assert.Equal(1, exporter.ReleaseCalls);
    }

    [Fact]
    public void EveryGetTakesItsOwnReference()
    {
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, PageSize);
        int fd = buffer.Fd();

        DmaBuffer[] imports = Enumerable.Range(0, 5).Select(_ => DmaBuffer.Get(fd)).ToArray();

        Assert.All(imports, b => Assert.Same(buffer, b));
        Assert.Equal(7, buffer.ReferenceCount);
        foreach (DmaBuffer import in imports)
        {
            import.Put();
        }

        Assert.Equal(2, buffer.ReferenceCount);
        DmaBuffer.CloseFd(fd);
        buffer.Put();
        Assert.Equal(1, exporter.ReleaseCalls);
    }

    [Fact]
    public void TwoDescriptorsForOneBufferAreDistinctAndEachHoldsAReference()
    {
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, PageSize);

        int first = buffer.Fd();
        int second = buffer.Fd(flags: 1);

        Assert.NotEqual(first, second);
        Assert.Equal(3, buffer.ReferenceCount);
        DmaBuffer.CloseFd(first);
        Assert.Equal(2, buffer.ReferenceCount);
        Assert.Same(buffer, DmaBuffer.Get(second));
        buffer.Put();
        buffer.Put();
        Assert.False(buffer.IsReleased);
        DmaBuffer.CloseFd(second);
        Assert.True(buffer.IsReleased);
        Assert.Equal(1, exporter.ReleaseCalls);
    }

    public static TheoryData<int[]> ReleaseOrders => new()
    {
        // Each entry is the order in which the references are dropped: 0 is the exporter's own reference,
        // 1 and 2 are references taken with Get, 3 and 4 are descriptors closed with CloseFd.
        new[] { 0, 1, 2, 3, 4 },
        new[] { 4, 3, 2, 1, 0 },
        new[] { 3, 0, 4, 1, 2 },
        new[] { 1, 3, 2, 4, 0 },
    };

    [Theory]
    [MemberData(nameof(ReleaseOrders))]
    public void ReleaseRunsExactlyOnceWhateverTheOrderOfPutsAndCloses(int[] order)
    {
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));
        int fdA = buffer.Fd();
        int fdB = buffer.Fd();
        DmaBuffer getA = DmaBuffer.Get(fdA);
        DmaBuffer getB = DmaBuffer.Get(fdB);
        Action[] drops =
        {
            buffer.Put,
            getA.Put,
            getB.Put,
            () => DmaBuffer.CloseFd(fdA),
            () => DmaBuffer.CloseFd(fdB),
        };
        Assert.Equal(5, buffer.ReferenceCount);

        for (int i = 0; i < order.Length; i++)
        {
            drops[order[i]]();
            Assert.Equal(order.Length - i - 1, buffer.ReferenceCount);
            Assert.Equal(i == order.Length - 1 ? 1 : 0, exporter.ReleaseCalls);
            Assert.Equal(i == order.Length - 1, buffer.IsReleased);
        }

        Assert.Equal(1, exporter.ReleaseCalls);
        Assert.Throws<ObjectDisposedException>(buffer.Put);
        Assert.Equal(1, exporter.ReleaseCalls);
    }

    [Fact]
    public void AttachAndDetachKeepTheAttachmentListInOrder()
    {
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));
        var gpu = new Device("gpu");
        var camera = new Device("camera");

        DmaBufAttachment first = buffer.Attach(gpu);
        DmaBufAttachment second = buffer.Attach(camera);
        DmaBufAttachment third = buffer.Attach(gpu);

        Assert.Same(buffer, first.Buffer);
        Assert.Same(gpu, first.Device);
        Assert.True(first.IsAttached);
        Assert.NotSame(first, third);
        Assert.Equal(new[] { first, second, third }, buffer.Attachments);
        Assert.Equal(3, exporter.AttachCalls);
        Assert.Contains("gpu", first.ToString(), StringComparison.Ordinal);

        buffer.Detach(second);
        Assert.False(second.IsAttached);
        Assert.Equal(new[] { first, third }, buffer.Attachments);
        Assert.Equal(1, exporter.DetachCalls);

        buffer.Detach(first);
        buffer.Detach(third);
        Assert.Empty(buffer.Attachments);
        Assert.Equal(3, exporter.DetachCalls);
        buffer.Put();
    }

    [Fact]
    public void AttachmentsLeftAttachedDoNotStopTheRelease()
    {
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, PageSize);
        DmaBufAttachment attachment = buffer.Attach(new Device("dev"));

        buffer.Put();

        Assert.True(buffer.IsReleased);
        Assert.Equal(1, exporter.ReleaseCalls);
        Assert.Throws<ObjectDisposedException>(() => buffer.Detach(attachment));
    }

    [Fact]
    public void AttachmentKeepsExporterData()
    {
        DmaBuffer buffer = DmaBuffer.Export(new SystemHeapExporter(), PageSize);
        DmaBufAttachment attachment = buffer.Attach(new Device("dev"));
        var data = new object();

        attachment.ExporterData = data;

        Assert.Same(data, attachment.ExporterData);
        buffer.Detach(attachment);
        buffer.Put();
    }

    [Theory]
    [InlineData(DmaDataDirection.Bidirectional)]
    [InlineData(DmaDataDirection.ToDevice)]
    [InlineData(DmaDataDirection.FromDevice)]
    [InlineData(DmaDataDirection.None)]
    public void MapAttachmentReturnsAMappedTableThatUnmapGivesBack(DmaDataDirection direction)
    {
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(3) + 10);
        DmaBufAttachment attachment = buffer.Attach(new Device("dev"));

        ScatterGatherTable table = buffer.MapAttachment(attachment, direction);

        Assert.Same(attachment, table.Attachment);
        Assert.Equal(direction, table.Direction);
        Assert.True(table.IsMapped);
        Assert.Equal(buffer.Size, table.TotalLength);
        Assert.Equal(buffer.Size, table.Entries.Sum(e => e.Length));
        Assert.Equal(1, attachment.MappedTableCount);
        Assert.Equal(1, buffer.MappedTableCount);
        Assert.Equal(1, exporter.MapCalls);

        buffer.UnmapAttachment(attachment, table);

        Assert.False(table.IsMapped);
        Assert.Equal(0, attachment.MappedTableCount);
        Assert.Equal(0, buffer.MappedTableCount);
        Assert.Equal(1, exporter.UnmapCalls);
        buffer.Detach(attachment);
        buffer.Put();
    }

    [Fact]
    public void OneAttachmentMayHoldSeveralTablesAndCountsThemOverAllAttachments()
    {
        DmaBuffer buffer = DmaBuffer.Export(new SystemHeapExporter(), Pages(2));
        DmaBufAttachment a = buffer.Attach(new Device("a"));
        DmaBufAttachment b = buffer.Attach(new Device("b"));

        ScatterGatherTable a1 = buffer.MapAttachment(a, DmaDataDirection.ToDevice);
        ScatterGatherTable a2 = buffer.MapAttachment(a, DmaDataDirection.FromDevice);
        ScatterGatherTable b1 = buffer.MapAttachment(b, DmaDataDirection.Bidirectional);

        Assert.NotSame(a1, a2);
        Assert.Equal(2, a.MappedTableCount);
        Assert.Equal(1, b.MappedTableCount);
        Assert.Equal(3, buffer.MappedTableCount);

        buffer.UnmapAttachment(a, a1);
        Assert.False(a1.IsMapped);
        Assert.True(a2.IsMapped);
        Assert.Equal(2, buffer.MappedTableCount);
        buffer.UnmapAttachment(b, b1);
        buffer.UnmapAttachment(a, a2);
        Assert.Equal(0, buffer.MappedTableCount);
        buffer.Detach(a);
        buffer.Detach(b);
        buffer.Put();
    }

    [Fact]
    public void TheSystemHeapAllocatesAtTheFirstMapAndFreesAtRelease()
    {
        var exporter = new SystemHeapExporter();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(3));
        DmaBufAttachment attachment = buffer.Attach(new Device("dev"));
        Assert.False(exporter.IsAllocated);
        Assert.Equal(0, exporter.AllocatedBytes);
        Assert.Equal(0, exporter.SegmentSize);

        ScatterGatherTable table = buffer.MapAttachment(attachment, DmaDataDirection.Bidirectional);

        Assert.True(exporter.IsAllocated);
        Assert.Equal(Pages(3), exporter.AllocatedBytes);
        buffer.UnmapAttachment(attachment, table);
        Assert.Equal(Pages(3), exporter.AllocatedBytes);
        buffer.Detach(attachment);
        buffer.Put();
        Assert.False(exporter.IsAllocated);
        Assert.Equal(0, exporter.AllocatedBytes);
    }

    [Fact]
    public void TheNonCoherentExporterHoldsDeviceMemoryAndACpuViewUntilRelease()
    {
        var exporter = new NonCoherentExporter();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2) + 1);
        DmaBufAttachment attachment = buffer.Attach(new Device("dev"));
        Assert.Equal(0, exporter.AllocatedBytes);

        ScatterGatherTable table = buffer.MapAttachment(attachment, DmaDataDirection.Bidirectional);

        Assert.Equal(2 * Pages(3), exporter.AllocatedBytes);
        buffer.UnmapAttachment(attachment, table);
        buffer.Detach(attachment);
        buffer.Put();
        Assert.Equal(0, exporter.AllocatedBytes);
    }

    [Fact]
    public void DevicesShareTheBufferThroughTheirTables()
    {
        DmaBuffer buffer = DmaBuffer.Export(new SystemHeapExporter(), Pages(2) + 100);
        var camera = new Device("camera");
        var encoder = new Device("encoder");
        DmaBufAttachment cameraAttachment = buffer.Attach(camera);
        DmaBufAttachment encoderAttachment = buffer.Attach(encoder);
        ScatterGatherTable cameraTable = buffer.MapAttachment(cameraAttachment, DmaDataDirection.FromDevice);
        ScatterGatherTable encoderTable = buffer.MapAttachment(encoderAttachment, DmaDataDirection.ToDevice);
        byte[] frame = Pattern(buffer.Size, seed: 3);

        camera.DmaWrite(cameraTable, 0, frame);
        var seen = new byte[buffer.Size];
        encoder.DmaRead(encoderTable, 0, seen);

        Assert.Equal(frame, seen);
        var tail = new byte[150];
        encoder.DmaRead(encoderTable, buffer.Size - 150, tail);
        Assert.Equal(frame.AsSpan((int)buffer.Size - 150).ToArray(), tail);
        buffer.UnmapAttachment(cameraAttachment, cameraTable);
        buffer.UnmapAttachment(encoderAttachment, encoderTable);
        buffer.Detach(cameraAttachment);
        buffer.Detach(encoderAttachment);
        buffer.Put();
    }

    [Fact]
    public void AnImporterReachesTheExportersDataThroughADescriptor()
    {
        DmaBuffer exported = DmaBuffer.Export(new SystemHeapExporter(), Pages(2));
        byte[] data = Pattern(exported.Size, seed: 11);
        DeviceWrite(exported, 0, data);
        int fd = exported.Fd();
        exported.Put();

        DmaBuffer imported = DmaBuffer.Get(fd);
        DmaBuffer.CloseFd(fd);

        Assert.Equal(1, imported.ReferenceCount);
        Assert.Equal(data, DeviceView(imported));
        imported.Put();
        Assert.True(imported.IsReleased);
    }

    [Fact]
    public void AnAttachTheExporterRefusesCarriesItsErrnoAndAddsNothing()
    {
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, PageSize);
        DmaBufAttachment kept = buffer.Attach(new Device("kept"));
        exporter.OnAttach = _ => throw new DmaBufException(Errno.EINVAL, "refused");
        BufferState before = BufferState.Of(buffer);

        var e = Assert.Throws<DmaBufException>(() => buffer.Attach(new Device("refused")));

        Assert.Equal(Errno.EINVAL, e.Errno);
        before.AssertUnchanged();
        Assert.Equal(new[] { kept }, buffer.Attachments);
        exporter.OnAttach = null;
        buffer.Detach(kept);
        Assert.Equal(1, exporter.DetachCalls);
        buffer.Put();
    }

    [Fact]
    public void AMapTheExporterFailsCarriesItsErrnoAndMapsNothing()
    {
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, PageSize);
        DmaBufAttachment attachment = buffer.Attach(new Device("dev"));
        exporter.OnMap = (_, _) => throw new DmaBufException(Errno.ENOMEM, "out of memory", new OutOfMemoryException());
        BufferState before = BufferState.Of(buffer);

        var e = Assert.Throws<DmaBufException>(() => buffer.MapAttachment(attachment, DmaDataDirection.ToDevice));

        Assert.Equal(Errno.ENOMEM, e.Errno);
        Assert.IsType<OutOfMemoryException>(e.InnerException);
        before.AssertUnchanged();
        exporter.OnMap = null;
        buffer.Detach(attachment);
        buffer.Put();
        Assert.Equal(1, exporter.ReleaseCalls);
    }

    [Fact]
    public void AnExporterThatReturnsNoTableIsReportedAsEinval()
    {
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, PageSize);
        DmaBufAttachment attachment = buffer.Attach(new Device("dev"));
        exporter.MapReturnsNull = true;
        BufferState before = BufferState.Of(buffer);

        var e = Assert.Throws<DmaBufException>(() => buffer.MapAttachment(attachment, DmaDataDirection.ToDevice));

        Assert.Equal(Errno.EINVAL, e.Errno);
        before.AssertUnchanged();
        buffer.Detach(attachment);
        buffer.Put();
    }

    [Fact]
    public void ATableAnExporterBuildsIsNotMappedUntilMapAttachmentReturnsIt()
    {
        var table = new ScatterGatherTable(new[] { new ScatterGatherEntry(0x1000, PageSize) });
        Assert.Null(table.Attachment);
        Assert.False(table.IsMapped);
        Assert.Equal(PageSize, table.TotalLength);
        Assert.Equal(new[] { new ScatterGatherEntry(0x1000, PageSize) }, table.Entries);
    }
}
