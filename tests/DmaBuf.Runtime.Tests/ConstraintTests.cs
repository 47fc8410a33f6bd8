// Tables shaped by the attached devices' constraints (segment size and count, contiguity, collated over devices),
// devices refused with EINVAL or EBUSY when they cannot be met, and the system heap's layout fixed at its first map.
using System;
using System.Collections.Generic;
using System.Linq;
using static DmaBuf.Runtime.Tests.TestSupport;

namespace DmaBuf.Runtime.Tests;

/// <summary>
/// Scatter-gather tables honour the attached devices' DMA constraints (maximum segment size and count,
/// contiguity), and devices whose constraints cannot be met are refused without changing anything.
/// </summary>
public class ConstraintTests
{
    public enum Kind
    {
        SystemHeap,
        NonCoherent,
    }

    private static DmaBufExporter NewExporter(Kind kind) => kind == Kind.SystemHeap ? new SystemHeapExporter() : new NonCoherentExporter();

    private static long AllocatedBytes(DmaBufExporter exporter) => exporter switch
    {
        SystemHeapExporter heap => heap.AllocatedBytes,
        NonCoherentExporter cache => cache.AllocatedBytes,
        _ => throw new ArgumentOutOfRangeException(nameof(exporter)),
    };

    private static Device NewDevice(string name, long maxSegmentSize, int maxSegmentCount, bool contiguous) => new(name)
    {
        MaxSegmentSize = maxSegmentSize,
        MaxSegmentCount = maxSegmentCount,
        RequiresContiguous = contiguous,
    };

    /// <summary>Asserts that a table covers the whole buffer in page-aligned, disjoint segments that each device can take.</summary>
    private static void AssertHonours(ScatterGatherTable table, DmaBuffer buffer, params Device[] devices)
    {
        Assert.NotEmpty(table.Entries);
        Assert.Equal(buffer.Size, table.TotalLength);
        Assert.Equal(buffer.Size, table.Entries.Sum(e => e.Length));
        Assert.All(table.Entries, e => Assert.Equal(0UL, e.DmaAddress % PageSize));
        Assert.All(table.Entries.Take(table.Entries.Count - 1), e => Assert.Equal(0, e.Length % PageSize));
        ScatterGatherEntry[] byAddress = table.Entries.OrderBy(e => e.DmaAddress).ToArray();
        for (int i = 1; i < byAddress.Length; i++)
        {
            Assert.True(byAddress[i - 1].DmaAddress + (ulong)byAddress[i - 1].Length <= byAddress[i].DmaAddress, "segments overlap");
        }

        foreach (Device device in devices)
        {
            Assert.True(table.Entries.Count <= device.MaxSegmentCount, $"{table.Entries.Count} segments for {device.Name} (max {device.MaxSegmentCount})");
            Assert.All(table.Entries, e => Assert.True(e.Length <= device.MaxSegmentSize, $"segment of {e.Length} bytes for {device.Name} (max {device.MaxSegmentSize})"));
            if (device.RequiresContiguous)
            {
                Assert.Single(table.Entries);
            }
        }
    }

    /// <summary>
    /// Writes a pattern through the device's table and checks that the CPU sees every page of it in place: the
    /// segments are in buffer order and kmap finds each page in its segment.
    /// </summary>
    private static void AssertDeviceAndCpuAgree(DmaBuffer buffer, Device device, ScatterGatherTable table, int seed)
    {
        byte[] data = Pattern(buffer.Size, seed);
        device.DmaWrite(table, 0, data);
        using (buffer.CpuAccess(0, buffer.Size, DmaDataDirection.FromDevice))
        {
            for (long page = 0; page < buffer.PageCount; page++)
            {
                int offset = (int)Pages(page);
                int length = (int)Math.Min(PageSize, buffer.Size - offset);
                Assert.Equal(data.AsSpan(offset, length).ToArray(), CpuPage(buffer, page).AsSpan(0, length).ToArray());
            }
        }
    }

    public static TheoryData<Kind, long, long, int, bool, int> Layouts()
    {
        // exporter, buffer size, max segment size, max segment count, contiguous, expected segments
        long unlimitedSize = long.MaxValue;
        int unlimitedCount = int.MaxValue;
        var data = new TheoryData<Kind, long, long, int, bool, int>();
        foreach (Kind kind in new[] { Kind.SystemHeap, Kind.NonCoherent })
        {
            data.Add(kind, Pages(3), unlimitedSize, unlimitedCount, false, 1);
            data.Add(kind, Pages(10), Pages(3), unlimitedCount, false, 4);
            data.Add(kind, Pages(10), Pages(3) + 100, unlimitedCount, false, 4);
            data.Add(kind, Pages(10), unlimitedSize, 3, false, 1);
            data.Add(kind, Pages(10), Pages(4), 3, false, 3);
            data.Add(kind, Pages(10), unlimitedSize, unlimitedCount, true, 1);
            data.Add(kind, Pages(10) + 123, Pages(2), unlimitedCount, false, 6);
            data.Add(kind, Pages(7), PageSize, 7, false, 7);
            data.Add(kind, Pages(300), unlimitedSize, unlimitedCount, true, 1);
            data.Add(kind, Pages(300), unlimitedSize, 1, false, 1);
        }

        // Without constraints the system heap lays a large buffer out in segments of its preferred size.
        data.Add(Kind.SystemHeap, Pages(300), unlimitedSize, unlimitedCount, false, 2);
        data.Add(Kind.NonCoherent, Pages(300), unlimitedSize, unlimitedCount, false, 1);
        return data;
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void TablesHonourTheDevicesConstraints(Kind kind, long size, long maxSegmentSize, int maxSegmentCount, bool contiguous, int segments)
    {
        DmaBufExporter exporter = NewExporter(kind);
        DmaBuffer buffer = DmaBuffer.Export(exporter, size);
        Device device = NewDevice("dev", maxSegmentSize, maxSegmentCount, contiguous);
        DmaBufAttachment attachment = buffer.Attach(device);

        ScatterGatherTable table = buffer.MapAttachment(attachment, DmaDataDirection.FromDevice);

        AssertHonours(table, buffer, device);
        Assert.Equal(segments, table.Entries.Count);
        AssertDeviceAndCpuAgree(buffer, device, table, seed: segments);
        buffer.UnmapAttachment(attachment, table);
        buffer.Detach(attachment);
        buffer.Put();
        Assert.Equal(0, AllocatedBytes(exporter));
    }

    [Fact]
    public void TheSystemHeapUsesItsPreferredSegmentSizeWhenNoDeviceAsksForLess()
    {
        var exporter = new SystemHeapExporter();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(300));
        DmaBufAttachment attachment = buffer.Attach(new Device("dev"));

        ScatterGatherTable table = buffer.MapAttachment(attachment, DmaDataDirection.ToDevice);

        Assert.Equal(SystemHeapExporter.PreferredSegmentSize, exporter.SegmentSize);
        Assert.Equal(new[] { SystemHeapExporter.PreferredSegmentSize, Pages(300) - SystemHeapExporter.PreferredSegmentSize }, table.Entries.Select(e => e.Length));
        buffer.UnmapAttachment(attachment, table);
        buffer.Detach(attachment);
        buffer.Put();
    }

    [Fact]
    public void TheSystemHeapCollatesTheConstraintsOfEveryDeviceAttachedBeforeTheFirstMap()
    {
        var exporter = new SystemHeapExporter();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(10));
        Device small = NewDevice("small segments", Pages(4), int.MaxValue, false);
        Device few = NewDevice("few segments", long.MaxValue, 3, false);
        DmaBufAttachment smallAttachment = buffer.Attach(small);
        DmaBufAttachment fewAttachment = buffer.Attach(few);

        ScatterGatherTable forSmall = buffer.MapAttachment(smallAttachment, DmaDataDirection.FromDevice);
        ScatterGatherTable forFew = buffer.MapAttachment(fewAttachment, DmaDataDirection.ToDevice);

        AssertHonours(forSmall, buffer, small, few);
        AssertHonours(forFew, buffer, small, few);
        Assert.Equal(forSmall.Entries, forFew.Entries);
        Assert.Equal(Pages(4), exporter.SegmentSize);
        byte[] data = Pattern(buffer.Size, seed: 5);
        small.DmaWrite(forSmall, 0, data);
        var seen = new byte[buffer.Size];
        few.DmaRead(forFew, 0, seen);
        Assert.Equal(data, seen);
        buffer.UnmapAttachment(smallAttachment, forSmall);
        buffer.UnmapAttachment(fewAttachment, forFew);
        buffer.Detach(smallAttachment);
        buffer.Detach(fewAttachment);
        buffer.Put();
    }

    [Fact]
    public void TheNonCoherentExporterMapsEachDeviceToItsOwnConstraints()
    {
        DmaBuffer buffer = DmaBuffer.Export(new NonCoherentExporter(), Pages(10));
        Device small = NewDevice("small segments", Pages(2), int.MaxValue, false);
        Device contiguous = NewDevice("contiguous", long.MaxValue, int.MaxValue, true);
        DmaBufAttachment smallAttachment = buffer.Attach(small);
        DmaBufAttachment contiguousAttachment = buffer.Attach(contiguous);

        ScatterGatherTable forSmall = buffer.MapAttachment(smallAttachment, DmaDataDirection.FromDevice);
        ScatterGatherTable forContiguous = buffer.MapAttachment(contiguousAttachment, DmaDataDirection.ToDevice);

        AssertHonours(forSmall, buffer, small);
        AssertHonours(forContiguous, buffer, contiguous);
        Assert.Equal(5, forSmall.Entries.Count);
        byte[] data = Pattern(buffer.Size, seed: 9);
        small.DmaWrite(forSmall, 0, data);
        var seen = new byte[buffer.Size];
        contiguous.DmaRead(forContiguous, 0, seen);
        Assert.Equal(data, seen);
        buffer.UnmapAttachment(smallAttachment, forSmall);
        buffer.UnmapAttachment(contiguousAttachment, forContiguous);
        buffer.Detach(smallAttachment);
        buffer.Detach(contiguousAttachment);
        buffer.Put();
    }

    public static TheoryData<Kind, long, long, int, bool> ImpossibleDevices()
    {
        var data = new TheoryData<Kind, long, long, int, bool>();
        foreach (Kind kind in new[] { Kind.SystemHeap, Kind.NonCoherent })
        {
            // Segments smaller than a page cannot be made.
            data.Add(kind, Pages(1), PageSize - 1, int.MaxValue, false);
            data.Add(kind, Pages(4), 100, int.MaxValue, false);

            // Contiguous, but the whole buffer is larger than one segment may be.
            data.Add(kind, Pages(10), Pages(4), int.MaxValue, true);

            // Too few segments of too small a size.
            data.Add(kind, Pages(10), Pages(1), 2, false);
            data.Add(kind, Pages(10) + 1, Pages(5), 2, false);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ImpossibleDevices))]
    public void ADeviceWhoseConstraintsCannotBeMetIsRefusedWithEinvalAndChangesNothing(Kind kind, long size, long maxSegmentSize, int maxSegmentCount, bool contiguous)
    {
        DmaBufExporter exporter = NewExporter(kind);
        DmaBuffer buffer = DmaBuffer.Export(exporter, size);
        DmaBufAttachment existing = buffer.Attach(new Device("existing"));
        BufferState before = BufferState.Of(buffer);

        var e = Assert.Throws<DmaBufException>(() => buffer.Attach(NewDevice("impossible", maxSegmentSize, maxSegmentCount, contiguous)));

        Assert.Equal(Errno.EINVAL, e.Errno);
        before.AssertUnchanged();
        Assert.Equal(0, AllocatedBytes(exporter));
        ScatterGatherTable table = buffer.MapAttachment(existing, DmaDataDirection.ToDevice);
        AssertHonours(table, buffer);
        buffer.UnmapAttachment(existing, table);
        buffer.Detach(existing);
        buffer.Put();
    }

    [Fact]
    public void TheSystemHeapRefusesADeviceThatConflictsWithOneAlreadyAttached()
    {
        var exporter = new SystemHeapExporter();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(4));
        DmaBufAttachment contiguous = buffer.Attach(NewDevice("contiguous", long.MaxValue, int.MaxValue, true));
        BufferState before = BufferState.Of(buffer);

        var e = Assert.Throws<DmaBufException>(() => buffer.Attach(NewDevice("one page", PageSize, int.MaxValue, false)));

        Assert.Equal(Errno.EINVAL, e.Errno);
        before.AssertUnchanged();

        // Once the conflicting device is gone the other one fits.
        buffer.Detach(contiguous);
        DmaBufAttachment onePage = buffer.Attach(NewDevice("one page", PageSize, int.MaxValue, false));
        ScatterGatherTable table = buffer.MapAttachment(onePage, DmaDataDirection.ToDevice);
        Assert.Equal(4, table.Entries.Count);
        buffer.UnmapAttachment(onePage, table);
        buffer.Detach(onePage);
        buffer.Put();
    }

    [Fact]
    public void TheNonCoherentExporterAcceptsDevicesThatOnlyConflictWithEachOther()
    {
        DmaBuffer buffer = DmaBuffer.Export(new NonCoherentExporter(), Pages(4));
        Device contiguousDevice = NewDevice("contiguous", long.MaxValue, int.MaxValue, true);
        Device onePageDevice = NewDevice("one page", PageSize, int.MaxValue, false);
        DmaBufAttachment contiguous = buffer.Attach(contiguousDevice);
        DmaBufAttachment onePage = buffer.Attach(onePageDevice);

        ScatterGatherTable a = buffer.MapAttachment(contiguous, DmaDataDirection.ToDevice);
        ScatterGatherTable b = buffer.MapAttachment(onePage, DmaDataDirection.ToDevice);

        AssertHonours(a, buffer, contiguousDevice);
        AssertHonours(b, buffer, onePageDevice);
        buffer.UnmapAttachment(contiguous, a);
        buffer.UnmapAttachment(onePage, b);
        buffer.Detach(contiguous);
        buffer.Detach(onePage);
        buffer.Put();
    }

    public static TheoryData<string, bool> LateDevices => new()
    {
        // name, whether the system heap's existing layout (one segment of 10 pages) can take it
        { "max 2 pages per segment", false },
        { "max 9 pages per segment", false },
        { "one segment", true },
        { "contiguous", true },
        { "max 10 pages per segment", true },
    };

    private static Device LateDevice(string name) => name switch
    {
        "max 2 pages per segment" => NewDevice(name, Pages(2), int.MaxValue, false),
        "max 9 pages per segment" => NewDevice(name, Pages(9) + 4095, int.MaxValue, false),
        "one segment" => NewDevice(name, long.MaxValue, 1, false),
        "contiguous" => NewDevice(name, long.MaxValue, int.MaxValue, true),
        "max 10 pages per segment" => NewDevice(name, Pages(10), int.MaxValue, false),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(LateDevices))]
    public void AfterTheFirstMapTheSystemHeapRefusesWithEbusyOnlyADeviceTheExistingLayoutCannotMeet(string name, bool fits)
    {
        var exporter = new SystemHeapExporter();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(10));
        DmaBufAttachment first = buffer.Attach(new Device("first"));
        ScatterGatherTable firstTable = buffer.MapAttachment(first, DmaDataDirection.ToDevice);
        ScatterGatherEntry[] layout = firstTable.Entries.ToArray();
        Assert.Single(layout);
        long segmentSize = exporter.SegmentSize;
        long allocated = exporter.AllocatedBytes;

        if (fits)
        {
            Device late = LateDevice(name);
            DmaBufAttachment attachment = buffer.Attach(late);
            ScatterGatherTable table = buffer.MapAttachment(attachment, DmaDataDirection.FromDevice);
            AssertHonours(table, buffer, late);
            Assert.Equal(layout, table.Entries);
            buffer.UnmapAttachment(attachment, table);
            buffer.Detach(attachment);
        }
        else
        {
            BufferState before = BufferState.Of(buffer);
            var e = Assert.Throws<DmaBufException>(() => buffer.Attach(LateDevice(name)));
            Assert.Equal(Errno.EBUSY, e.Errno);
            before.AssertUnchanged();
            Assert.Equal(segmentSize, exporter.SegmentSize);
            Assert.Equal(allocated, exporter.AllocatedBytes);
            Assert.True(firstTable.IsMapped);

            // The existing layout is still what every map returns.
            ScatterGatherTable again = buffer.MapAttachment(first, DmaDataDirection.ToDevice);
            Assert.Equal(layout, again.Entries);
            buffer.UnmapAttachment(first, again);
        }

        buffer.UnmapAttachment(first, firstTable);
        buffer.Detach(first);
        buffer.Put();
    }

    [Fact]
    public void TheSameDeviceIsAcceptedBeforeTheFirstMapAndShapesTheLayout()
    {
        var exporter = new SystemHeapExporter();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(10));
        DmaBufAttachment first = buffer.Attach(new Device("first"));
        Device late = LateDevice("max 2 pages per segment");
        DmaBufAttachment second = buffer.Attach(late);

        ScatterGatherTable table = buffer.MapAttachment(first, DmaDataDirection.ToDevice);

        AssertHonours(table, buffer, late);
        Assert.Equal(5, table.Entries.Count);
        buffer.UnmapAttachment(first, table);
        buffer.Detach(first);
        buffer.Detach(second);
        buffer.Put();
    }

    [Fact]
    public void TheSystemHeapDoesNotMigrateAfterTheLastUnmapEither()
    {
        DmaBuffer buffer = DmaBuffer.Export(new SystemHeapExporter(), Pages(10));
        DmaBufAttachment first = buffer.Attach(new Device("first"));
        buffer.UnmapAttachment(first, buffer.MapAttachment(first, DmaDataDirection.ToDevice));
        buffer.Detach(first);
        BufferState before = BufferState.Of(buffer);

        var e = Assert.Throws<DmaBufException>(() => buffer.Attach(LateDevice("max 2 pages per segment")));

        Assert.Equal(Errno.EBUSY, e.Errno);
        before.AssertUnchanged();
        buffer.Put();
    }

    [Fact]
    public void CpuAccessAllocatesTheSystemHeapAsAMapDoes()
    {
        var exporter = new SystemHeapExporter();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(10));
        Assert.False(exporter.IsAllocated);

        buffer.BeginCpuAccess(0, PageSize, DmaDataDirection.ToDevice);

        Assert.True(exporter.IsAllocated);
        Assert.Equal(Pages(10), exporter.AllocatedBytes);
        var e = Assert.Throws<DmaBufException>(() => buffer.Attach(LateDevice("max 2 pages per segment")));
        Assert.Equal(Errno.EBUSY, e.Errno);
        Assert.Empty(buffer.Attachments);
        buffer.EndCpuAccess(0, PageSize, DmaDataDirection.ToDevice);
        buffer.Put();
        Assert.Equal(0, exporter.AllocatedBytes);
    }

    [Fact]
    public void TheNonCoherentExporterNeverRefusesALateDeviceItCanServe()
    {
        DmaBuffer buffer = DmaBuffer.Export(new NonCoherentExporter(), Pages(10));
        DmaBufAttachment first = buffer.Attach(new Device("first"));
        ScatterGatherTable firstTable = buffer.MapAttachment(first, DmaDataDirection.ToDevice);
        Device late = LateDevice("max 2 pages per segment");

        DmaBufAttachment attachment = buffer.Attach(late);
        ScatterGatherTable table = buffer.MapAttachment(attachment, DmaDataDirection.ToDevice);

        AssertHonours(table, buffer, late);
        Assert.Equal(5, table.Entries.Count);
        buffer.UnmapAttachment(attachment, table);
        buffer.UnmapAttachment(first, firstTable);
        buffer.Detach(attachment);
        buffer.Detach(first);
        buffer.Put();
    }

    [Fact]
    public void AReusedSystemHeapExporterLaysOutItsNextBufferAfresh()
    {
        var exporter = new SystemHeapExporter();
        DmaBuffer first = DmaBuffer.Export(exporter, Pages(10));
        DmaBufAttachment firstAttachment = first.Attach(new Device("first"));
        first.UnmapAttachment(firstAttachment, first.MapAttachment(firstAttachment, DmaDataDirection.ToDevice));
        Assert.Equal(Pages(10), exporter.SegmentSize);
        first.Detach(firstAttachment);
        first.Put();

        Assert.False(exporter.IsAllocated);
        Assert.Equal(0, exporter.AllocatedBytes);
        Assert.Equal(0, exporter.SegmentSize);

        DmaBuffer second = DmaBuffer.Export(exporter, Pages(6));
        Device small = LateDevice("max 2 pages per segment");
        DmaBufAttachment attachment = second.Attach(small);
        ScatterGatherTable table = second.MapAttachment(attachment, DmaDataDirection.ToDevice);
        AssertHonours(table, second, small);
        Assert.Equal(3, table.Entries.Count);
        Assert.Equal(Pages(2), exporter.SegmentSize);
        Assert.Equal(Pages(6), exporter.AllocatedBytes);
        second.UnmapAttachment(attachment, table);
        second.Detach(attachment);
        second.Put();
        Assert.Equal(0, exporter.SegmentSize);
    }

    [Fact]
    public void DevicesAreUnconstrainedByDefault()
    {
        var device = new Device("plain");

        Assert.Equal("plain", device.Name);
        Assert.Equal("plain", device.ToString());
        Assert.Equal(long.MaxValue, device.MaxSegmentSize);
        Assert.Equal(int.MaxValue, device.MaxSegmentCount);
        Assert.False(device.RequiresContiguous);
    }

    [Fact]
    public void CollatedConstraintsTakeTheStrictestOfEachDevice()
    {
        var devices = new List<Device>
        {
            NewDevice("a", Pages(8) + 5, 100, false),
            NewDevice("b", Pages(20), 3, false),
            NewDevice("c", long.MaxValue, int.MaxValue, true),
        };

        CollatedConstraints collated = CollatedConstraints.Of(devices);

        Assert.Equal(8, collated.MaxSegmentPages);
        Assert.Equal(3, collated.MaxSegmentCount);
        Assert.True(collated.Contiguous);
        Assert.Equal(8, collated.SegmentPages(8, 256));
        Assert.Equal(0, collated.SegmentPages(9, 256));
        Assert.True(collated.Accepts(8, 1));
        Assert.False(collated.Accepts(8, 2));
    }
}
