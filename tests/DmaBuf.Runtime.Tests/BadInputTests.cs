// Bad input to the runtime: ranges, directions, pages, mappings, attachments, nulls, sizes, constraints, descriptors
// and device transfers that are wrong throw the ArgumentException family, use after the last Put throws
// ObjectDisposedException, and nothing changes.
using System;
using System.Linq;
using static DmaBuf.Runtime.Tests.TestSupport;

namespace DmaBuf.Runtime.Tests;

/// <summary>
/// Bad arguments throw the ArgumentException family, use after the last put throws ObjectDisposedException,
/// and none of these failed calls changes anything.
/// </summary>
public class BadInputTests
{
    private const long Size = (2 * PageSize) + 100;

    private static (DmaBuffer Buffer, TrackingExporter Exporter) NewBuffer(long size = Size)
    {
        var exporter = TrackingExporter.OverSystemHeap();
        return (DmaBuffer.Export(exporter, size), exporter);
    }

    private static void EndAllAndPut(DmaBuffer buffer)
    {
        foreach (CpuAccessRange range in buffer.BegunCpuAccesses)
        {
            buffer.EndCpuAccess(range.Start, range.Length, range.Direction);
        }

        foreach (DmaBufAttachment attachment in buffer.Attachments)
        {
            foreach (ScatterGatherTable table in attachment.MappedTables.ToArray())
            {
                buffer.UnmapAttachment(attachment, table);
            }

            buffer.Detach(attachment);
        }

        buffer.Put();
        Assert.True(buffer.IsReleased);
    }

    // ---- Ranges of CPU accesses ----

    public static TheoryData<string, long, long> BadRanges()
    {
        var data = new TheoryData<string, long, long>();
        (long Start, long Length)[] ranges =
        {
            (-1, 1),
            (long.MinValue, 1),
            (-PageSize, Pages(2)),
            (0, 0),
            (0, -1),
            (0, long.MinValue),
            (long.MaxValue, 1),
            (1, long.MaxValue),
            (long.MaxValue, long.MaxValue),
            (Size, 1),
            (Size, 0),
            (0, Size + 1),
            (Size - 1, 2),
            (PageSize, long.MaxValue - PageSize + 1),
        };
        foreach (string method in new[] { "BeginCpuAccess", "EndCpuAccess", "CpuAccess" })
        {
            foreach ((long start, long length) in ranges)
            {
                data.Add(method, start, length);
            }
        }

        return data;
    }

    private static Action CpuAccessCall(DmaBuffer buffer, string method, long start, long length, DmaDataDirection direction) => method switch
    {
        "BeginCpuAccess" => () => buffer.BeginCpuAccess(start, length, direction),
        "EndCpuAccess" => () => buffer.EndCpuAccess(start, length, direction),
        "CpuAccess" => () => buffer.CpuAccess(start, length, direction),
        _ => throw new ArgumentOutOfRangeException(nameof(method)),
    };

    [Theory]
    [MemberData(nameof(BadRanges))]
    public void ANegativeEmptyOverflowingOrPastTheEndRangeIsOutOfRangeAndChangesNothing(string method, long start, long length)
    {
        (DmaBuffer buffer, TrackingExporter exporter) = NewBuffer();
        buffer.BeginCpuAccess(0, Size, DmaDataDirection.Bidirectional);
        BufferState before = BufferState.Of(buffer);

        var e = Assert.Throws<ArgumentOutOfRangeException>(CpuAccessCall(buffer, method, start, length, DmaDataDirection.Bidirectional));

        Assert.Contains(e.ParamName, new[] { "start", "length" });
        before.AssertUnchanged();
        Assert.Equal(1, exporter.BeginCalls);
        Assert.Equal(0, exporter.EndCalls);
        EndAllAndPut(buffer);
    }

    [Theory]
    [InlineData(0L, Size)]
    [InlineData(Size - 1, 1L)]
    [InlineData(PageSize, Size - PageSize)]
    public void TheWholeBufferAndItsLastByteAreValidRanges(long start, long length)
    {
        (DmaBuffer buffer, _) = NewBuffer();

        using (buffer.CpuAccess(start, length, DmaDataDirection.ToDevice))
        {
            buffer.Kunmap(buffer.PageCount - 1, buffer.Kmap(buffer.PageCount - 1));
        }

        EndAllAndPut(buffer);
    }

    public static TheoryData<string, int> BadDirections()
    {
        var data = new TheoryData<string, int>();
        foreach (string method in new[] { "BeginCpuAccess", "EndCpuAccess", "CpuAccess", "MapAttachment" })
        {
            foreach (int direction in new[] { 7, 4, -1, int.MaxValue, int.MinValue })
            {
                data.Add(method, direction);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(BadDirections))]
    public void AnUndefinedDirectionIsOutOfRangeAndChangesNothing(string method, int direction)
    {
        (DmaBuffer buffer, TrackingExporter exporter) = NewBuffer();
        DmaBufAttachment attachment = buffer.Attach(new Device("dev"));
        buffer.BeginCpuAccess(0, PageSize, DmaDataDirection.ToDevice);
        BufferState before = BufferState.Of(buffer);
        Action call = method == "MapAttachment"
            ? () => buffer.MapAttachment(attachment, (DmaDataDirection)direction)
            : CpuAccessCall(buffer, method, 0, PageSize, (DmaDataDirection)direction);

        var e = Assert.Throws<ArgumentOutOfRangeException>(call);

        Assert.Equal("direction", e.ParamName);
        before.AssertUnchanged();
        Assert.Equal(0, exporter.MapCalls);
        Assert.Equal(1, exporter.BeginCalls);
        Assert.Equal(0, exporter.EndCalls);
        EndAllAndPut(buffer);
    }

    // ---- Page numbers ----

    public static TheoryData<long, bool> BadPages()
    {
        var data = new TheoryData<long, bool>();
        foreach (bool atomic in new[] { false, true })
        {
            foreach (long page in new[] { -1L, 3L, 4L, long.MaxValue, long.MinValue, (long)int.MaxValue + 1 })
            {
                data.Add(page, atomic);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(BadPages))]
    public void APageThatIsNegativeOrPastTheEndIsOutOfRangeAndChangesNothing(long page, bool atomic)
    {
        OnOwnThread(() =>
        {
            (DmaBuffer buffer, TrackingExporter exporter) = NewBuffer();
            Assert.Equal(3, buffer.PageCount);
            buffer.BeginCpuAccess(0, Size, DmaDataDirection.FromDevice);
            BufferState before = BufferState.Of(buffer);

            var e = Assert.Throws<ArgumentOutOfRangeException>(() => atomic ? buffer.KmapAtomic(page) : buffer.Kmap(page));

            Assert.Equal("pageNumber", e.ParamName);
            before.AssertUnchanged();
            Assert.Equal(0, exporter.KmapCalls + exporter.KmapAtomicCalls);
            EndAllAndPut(buffer);
        });
    }

    [Fact]
    public void APageOutOfRangeIsReportedBeforeTheValidatorLooksAtTheBegunAccess()
    {
        (DmaBuffer buffer, _) = NewBuffer();

        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Kmap(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.KmapAtomic(buffer.PageCount));

        Assert.Equal(0, buffer.MappedPageCount);
        EndAllAndPut(buffer);
    }

    // ---- Pages that are not this buffer's mappings ----

    [Fact]
    public void TheDefaultPageIsNoMapping()
    {
        DmaBufPage page = default;

        Assert.Null(page.Buffer);
        Assert.Equal(0, page.PageNumber);
        Assert.Equal(0, page.Address);
        Assert.False(page.IsAtomic);
        Assert.True(page.Span.IsEmpty);
        Assert.Equal("(no page)", page.ToString());
        Assert.Equal(default(DmaBufPage), page);
        Assert.Equal(default(DmaBufPage).GetHashCode(), page.GetHashCode());
        page.Dispose();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void UnmappingTheDefaultPageIsAnArgumentErrorAndChangesNothing(bool atomic)
    {
        OnOwnThread(() =>
        {
            (DmaBuffer buffer, TrackingExporter exporter) = NewBuffer();
            buffer.BeginCpuAccess(0, Size, DmaDataDirection.FromDevice);
            DmaBufPage held = atomic ? buffer.KmapAtomic(0) : buffer.Kmap(0);
            BufferState before = BufferState.Of(buffer);

            var e = Assert.Throws<ArgumentException>(() =>
            {
                if (atomic)
                {
                    buffer.KunmapAtomic(0, default);
                }
                else
                {
                    buffer.Kunmap(0, default);
                }
            });

            Assert.Equal("page", e.ParamName);
            before.AssertUnchanged();
            Assert.Equal(0, exporter.KunmapCalls + exporter.KunmapAtomicCalls);
            held.Dispose();
            EndAllAndPut(buffer);
        });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void UnmappingAnotherBuffersPageIsAnArgumentErrorAndChangesNeitherBuffer(bool atomic)
    {
        OnOwnThread(() =>
        {
            (DmaBuffer buffer, TrackingExporter exporter) = NewBuffer();
            (DmaBuffer other, TrackingExporter otherExporter) = NewBuffer();
            buffer.BeginCpuAccess(0, Size, DmaDataDirection.FromDevice);
            other.BeginCpuAccess(0, Size, DmaDataDirection.FromDevice);
            DmaBufPage own = atomic ? buffer.KmapAtomic(1) : buffer.Kmap(1);
            DmaBufPage foreign = atomic ? other.KmapAtomic(1) : other.Kmap(1);
            BufferState beforeBuffer = BufferState.Of(buffer);
            BufferState beforeOther = BufferState.Of(other);

            var e = Assert.Throws<ArgumentException>(() =>
            {
                if (atomic)
                {
                    buffer.KunmapAtomic(1, foreign);
                }
                else
                {
                    buffer.Kunmap(1, foreign);
                }
            });

            Assert.Equal("page", e.ParamName);
            beforeBuffer.AssertUnchanged();
            beforeOther.AssertUnchanged();
            Assert.Equal(0, exporter.KunmapCalls + exporter.KunmapAtomicCalls);
            Assert.Equal(0, otherExporter.KunmapCalls + otherExporter.KunmapAtomicCalls);
            foreign.Dispose();
            own.Dispose();
            EndAllAndPut(buffer);
            EndAllAndPut(other);
        });
    }

    // ---- Attachments that are not (or no longer) this buffer's ----

    [Fact]
    public void MappingAnotherBuffersAttachmentIsAnArgumentErrorAndChangesNeitherBuffer()
    {
        (DmaBuffer buffer, TrackingExporter exporter) = NewBuffer();
        (DmaBuffer other, TrackingExporter otherExporter) = NewBuffer();
        DmaBufAttachment foreign = other.Attach(new Device("dev"));
        BufferState beforeBuffer = BufferState.Of(buffer);
        BufferState beforeOther = BufferState.Of(other);

        var e = Assert.Throws<ArgumentException>(() => buffer.MapAttachment(foreign, DmaDataDirection.ToDevice));

        Assert.Equal("attachment", e.ParamName);
        beforeBuffer.AssertUnchanged();
        beforeOther.AssertUnchanged();
        Assert.Equal(0, exporter.MapCalls + otherExporter.MapCalls);
        EndAllAndPut(buffer);
        EndAllAndPut(other);
    }

    [Fact]
    public void UsingADetachedAttachmentIsAnArgumentErrorAndChangesNothing()
    {
        (DmaBuffer buffer, TrackingExporter exporter) = NewBuffer();
        DmaBufAttachment detached = buffer.Attach(new Device("gone"));
        DmaBufAttachment kept = buffer.Attach(new Device("kept"));
        buffer.Detach(detached);
        BufferState before = BufferState.Of(buffer);

        Assert.Equal("attachment", Assert.Throws<ArgumentException>(() => buffer.Detach(detached)).ParamName);
        Assert.Equal("attachment", Assert.Throws<ArgumentException>(() => buffer.MapAttachment(detached, DmaDataDirection.ToDevice)).ParamName);

        before.AssertUnchanged();
        Assert.Equal(1, exporter.DetachCalls);
        Assert.Equal(0, exporter.MapCalls);
        Assert.False(detached.IsAttached);
        Assert.Equal(new[] { kept }, buffer.Attachments);
        EndAllAndPut(buffer);
    }

    // ---- Nulls ----

    [Fact]
    public void NullArgumentsAreRefusedAndChangeNothing()
    {
        (DmaBuffer buffer, TrackingExporter exporter) = NewBuffer();
        DmaBufAttachment attachment = buffer.Attach(new Device("dev"));
        ScatterGatherTable table = buffer.MapAttachment(attachment, DmaDataDirection.ToDevice);
        BufferState before = BufferState.Of(buffer);

        Assert.Throws<ArgumentNullException>("exporter", () => DmaBuffer.Export(null!, PageSize));
        Assert.Throws<ArgumentNullException>("device", () => buffer.Attach(null!));
        Assert.Throws<ArgumentNullException>("attachment", () => buffer.Detach(null!));
        Assert.Throws<ArgumentNullException>("attachment", () => buffer.MapAttachment(null!, DmaDataDirection.ToDevice));
        Assert.Throws<ArgumentNullException>("attachment", () => buffer.UnmapAttachment(null!, table));
        Assert.Throws<ArgumentNullException>("table", () => buffer.UnmapAttachment(attachment, null!));
        Assert.Throws<ArgumentNullException>("name", () => new Device(null!));
        Assert.Throws<ArgumentNullException>("entries", () => new ScatterGatherTable(null!));
        Assert.Throws<ArgumentNullException>("table", () => attachment.Device.DmaRead(null!, 0, new byte[1]));
        Assert.Throws<ArgumentNullException>("table", () => attachment.Device.DmaWrite(null!, 0, new byte[1]));

        before.AssertUnchanged();
        Assert.True(table.IsMapped);
        Assert.Equal(1, exporter.AttachCalls);
        Assert.Equal(0, exporter.UnmapCalls + exporter.DetachCalls);
        EndAllAndPut(buffer);
    }

    // ---- Export and constructors ----

    [Theory]
    [InlineData(0L)]
    [InlineData(-1L)]
    [InlineData(long.MinValue)]
    [InlineData(long.MaxValue)]
    [InlineData(long.MaxValue - PageSize + 1)]
    public void ExportingANonPositiveOrUnaddressableSizeIsOutOfRangeAndLeavesTheExporterFree(long size)
    {
        var exporter = new SystemHeapExporter();

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => DmaBuffer.Export(exporter, size));

        Assert.Equal("size", e.ParamName);
        Assert.Null(exporter.Buffer);
        DmaBuffer buffer = DmaBuffer.Export(exporter, PageSize);
        Assert.Same(buffer, exporter.Buffer);
        buffer.Put();
    }

    [Theory]
    [InlineData(0L, 1)]
    [InlineData(-1L, 1)]
    [InlineData(long.MinValue, 1)]
    [InlineData(4096L, 0)]
    [InlineData(4096L, -3)]
    public void ADeviceConstraintMustBePositive(long maxSegmentSize, int maxSegmentCount)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Device("dev") { MaxSegmentSize = maxSegmentSize, MaxSegmentCount = maxSegmentCount });

        Assert.Equal(maxSegmentSize <= 0 ? nameof(Device.MaxSegmentSize) : nameof(Device.MaxSegmentCount), e.ParamName);
    }

    [Theory]
    [InlineData(new long[0])]
    [InlineData(new long[] { 0 })]
    [InlineData(new long[] { 4096, -1 })]
    [InlineData(new long[] { 4096, 0, 4096 })]
    public void ATableNeedsAtLeastOneSegmentAndPositiveLengths(long[] lengths)
    {
        var entries = lengths.Select((length, i) => new ScatterGatherEntry((ulong)(i + 1) * 0x10000, length)).ToArray();

        var e = Assert.Throws<ArgumentException>(() => new ScatterGatherTable(entries));

        Assert.Equal("entries", e.ParamName);
    }

    // ---- Descriptors ----

    [Theory]
    [InlineData(-1)]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(int.MinValue)]
    [InlineData(int.MaxValue)]
    public void ANumberThatIsNoOpenDescriptorIsAnArgumentError(int fd)
    {
        Assert.Equal("fd", Assert.Throws<ArgumentException>(() => DmaBuffer.Get(fd)).ParamName);
        Assert.Equal("fd", Assert.Throws<ArgumentException>(() => DmaBuffer.CloseFd(fd)).ParamName);
    }

    // ---- Use after the last put ----

    [Fact]
    public void ASecondPutIsObjectDisposedAndDoesNotReleaseAgain()
    {
        (DmaBuffer buffer, TrackingExporter exporter) = NewBuffer();
        buffer.Put();

        var e = Assert.Throws<ObjectDisposedException>(buffer.Put);

        Assert.Contains(buffer.ToString(), e.Message, StringComparison.Ordinal);
        Assert.Equal(0, buffer.ReferenceCount);
        Assert.True(buffer.IsReleased);
        Assert.Equal(1, exporter.ReleaseCalls);
    }

    public static TheoryData<string> CallsAfterRelease => new()
    {
        "Fd",
        "Put",
        "Attach",
        "Detach",
        "MapAttachment",
        "UnmapAttachment",
        "BeginCpuAccess",
        "EndCpuAccess",
        "CpuAccess",
        "Kmap",
        "KmapAtomic",
        "Kunmap",
        "KunmapAtomic",
        "DmaBufPage.Dispose",
    };

    [Theory]
    [MemberData(nameof(CallsAfterRelease))]
    public void EveryCallAfterTheLastPutIsObjectDisposedAndChangesNothing(string call)
    {
        OnOwnThread(() =>
        {
            (DmaBuffer buffer, TrackingExporter exporter) = NewBuffer();
            int fd = buffer.Fd();
            DmaBufAttachment attachment = buffer.Attach(new Device("dev"));
            ScatterGatherTable table = buffer.MapAttachment(attachment, DmaDataDirection.ToDevice);
            buffer.UnmapAttachment(attachment, table);
            buffer.BeginCpuAccess(0, Size, DmaDataDirection.Bidirectional);
            DmaBufPage page = buffer.Kmap(1);
            DmaBufPage atomicPage = buffer.KmapAtomic(2);
            buffer.KunmapAtomic(2, atomicPage);
            buffer.Kunmap(1, page);
            buffer.EndCpuAccess(0, Size, DmaDataDirection.Bidirectional);
            DmaBuffer.CloseFd(fd);
            buffer.Put();
            Assert.True(buffer.IsReleased);
            BufferState before = BufferState.Of(buffer);
            Action action = call switch
            {
                "Fd" => () => buffer.Fd(),
                "Put" => buffer.Put,
                "Attach" => () => buffer.Attach(new Device("late")),
                "Detach" => () => buffer.Detach(attachment),
                "MapAttachment" => () => buffer.MapAttachment(attachment, DmaDataDirection.ToDevice),
                "UnmapAttachment" => () => buffer.UnmapAttachment(attachment, table),
                "BeginCpuAccess" => () => buffer.BeginCpuAccess(0, PageSize, DmaDataDirection.ToDevice),
                "EndCpuAccess" => () => buffer.EndCpuAccess(0, Size, DmaDataDirection.Bidirectional),
                "CpuAccess" => () => buffer.CpuAccess(0, PageSize, DmaDataDirection.ToDevice),
                "Kmap" => () => buffer.Kmap(1),
                "KmapAtomic" => () => buffer.KmapAtomic(2),
                "Kunmap" => () => buffer.Kunmap(1, page),
                "KunmapAtomic" => () => buffer.KunmapAtomic(2, atomicPage),
                "DmaBufPage.Dispose" => page.Dispose,
                _ => throw new ArgumentOutOfRangeException(nameof(call)),
            };

            var e = Assert.Throws<ObjectDisposedException>(action);

            // With the validator on (as in this suite) the use is reported as DMA0011, still as ObjectDisposedException.
            Assert.StartsWith("DMA0011: ", e.Message, StringComparison.Ordinal);
            Assert.EndsWith("/docs/rules/DMA0011.md", e.HelpLink, StringComparison.Ordinal);
            before.AssertUnchanged();
            Assert.Equal(0, buffer.ReferenceCount);
            Assert.Equal(1, exporter.ReleaseCalls);
            Assert.Equal(1, exporter.AttachCalls);
            Assert.Equal(1, exporter.MapCalls);
            Assert.Equal(1, exporter.BeginCalls);
            Assert.Equal(1, exporter.KmapCalls);
            Assert.Equal(0, exporter.AllocatedBytes);
            Assert.Equal(0, DmaBufValidation.AtomicMappingsHeldByCurrentThread);
        });
    }

    [Fact]
    public void AReleasedBufferStillReportsItsShape()
    {
        (DmaBuffer buffer, _) = NewBuffer();
        buffer.Put();

        Assert.Equal(Size, buffer.Size);
        Assert.Equal(3, buffer.PageCount);
        Assert.Equal(0, buffer.ReferenceCount);
        Assert.Empty(buffer.BegunCpuAccesses);
        Assert.Equal(0, buffer.MappedTableCount);
        Assert.Equal(0, buffer.MappedPageCount);
    }

    // ---- Device transfers ----

    [Fact]
    public void ADeviceTransferOutsideItsTableOrAgainstItsMappingIsRefusedAndWritesNothing()
    {
        (DmaBuffer buffer, _) = NewBuffer();
        var device = new Device("dev");
        var stranger = new Device("stranger");
        DmaBufAttachment attachment = buffer.Attach(device);
        ScatterGatherTable toDevice = buffer.MapAttachment(attachment, DmaDataDirection.ToDevice);
        ScatterGatherTable fromDevice = buffer.MapAttachment(attachment, DmaDataDirection.FromDevice);
        ScatterGatherTable none = buffer.MapAttachment(attachment, DmaDataDirection.None);
        ScatterGatherTable unmapped = buffer.MapAttachment(attachment, DmaDataDirection.Bidirectional);
        buffer.UnmapAttachment(attachment, unmapped);
        byte[] data = Pattern(PageSize, seed: 1);
        var sink = new byte[PageSize];

        // Direction: a device writes only FromDevice/Bidirectional tables and reads only ToDevice/Bidirectional ones.
        Assert.Equal("table", Assert.Throws<ArgumentException>(() => device.DmaWrite(toDevice, 0, data)).ParamName);
        Assert.Equal("table", Assert.Throws<ArgumentException>(() => device.DmaRead(fromDevice, 0, sink)).ParamName);
        Assert.Equal("table", Assert.Throws<ArgumentException>(() => device.DmaWrite(none, 0, data)).ParamName);
        Assert.Equal("table", Assert.Throws<ArgumentException>(() => device.DmaRead(none, 0, sink)).ParamName);

        // Only a mapped table, mapped for this device.
        Assert.Equal("table", Assert.Throws<ArgumentException>(() => device.DmaWrite(unmapped, 0, data)).ParamName);
        Assert.Equal("table", Assert.Throws<ArgumentException>(() => stranger.DmaWrite(fromDevice, 0, data)).ParamName);
        Assert.Equal("table", Assert.Throws<ArgumentException>(() => device.DmaWrite(new ScatterGatherTable(fromDevice.Entries), 0, data)).ParamName);

        // Only inside the table.
        Assert.Throws<ArgumentOutOfRangeException>(() => device.DmaWrite(fromDevice, -1, data));
        Assert.Throws<ArgumentOutOfRangeException>(() => device.DmaWrite(fromDevice, Size - PageSize + 1, data));
        Assert.Throws<ArgumentOutOfRangeException>(() => device.DmaWrite(fromDevice, Size + 1, ReadOnlySpan<byte>.Empty));
        Assert.Throws<ArgumentOutOfRangeException>(() => device.DmaWrite(fromDevice, long.MaxValue, data));
        Assert.Throws<ArgumentOutOfRangeException>(() => device.DmaRead(toDevice, long.MinValue, sink));
        Assert.Throws<ArgumentOutOfRangeException>(() => device.DmaRead(toDevice, Size - 1, new byte[2]));

        Assert.All(sink, b => Assert.Equal(0, b));
        var seen = new byte[Size];
        device.DmaRead(toDevice, 0, seen);
        Assert.All(seen, b => Assert.Equal(0, b));
        device.DmaWrite(fromDevice, Size - PageSize, data);
        device.DmaRead(toDevice, Size - PageSize, sink);
        Assert.Equal(data, sink);
        EndAllAndPut(buffer);
    }
}
