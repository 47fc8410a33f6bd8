// What a call does when the exporter's callback throws. A call that makes one callback
// changes nothing; Detach and the release cannot be undone once begun, so they complete and report the exporter's
// exception wrapped in DmaBufException(EIO); an exporter that maps a table twice is refused and told to unmap it.
using System;
using System.Linq;
using static DmaBuf.Runtime.Tests.TestSupport;

namespace DmaBuf.Runtime.Tests;

public class ExporterFailureTests
{
    private static InvalidOperationException ExporterBug() => new("the exporter failed");

    /// <summary>A buffer over a tracking exporter, with one attachment and one table mapped ToDevice.</summary>
    private static (TrackingExporter Exporter, DmaBuffer Buffer, DmaBufAttachment Attachment, ScatterGatherTable Table) Mapped()
    {
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));
        DmaBufAttachment attachment = buffer.Attach(new Device("dev"));
        return (exporter, buffer, attachment, buffer.MapAttachment(attachment, DmaDataDirection.ToDevice));
    }

    /// <summary>Unmaps the table, detaches and puts the buffer.</summary>
    private static void TearDown(DmaBuffer buffer, DmaBufAttachment attachment, ScatterGatherTable table)
    {
        buffer.UnmapAttachment(attachment, table);
        buffer.Detach(attachment);
        buffer.Put();
    }

    private static void AssertWrapsExporterBug(DmaBufException e)
    {
        Assert.Equal(Errno.EIO, e.Errno);
        Assert.Equal("the exporter failed", Assert.IsType<InvalidOperationException>(e.InnerException).Message);
    }

    [Fact]
    public void ADetachWhoseExporterThrowsStillDetachesAndReportsIt()
    {
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));
        DmaBufAttachment attachment = buffer.Attach(new Device("dev"));
        DmaBufAttachment other = buffer.Attach(new Device("other"));
        exporter.OnDetach = a => throw ExporterBug();

        AssertWrapsExporterBug(Assert.Throws<DmaBufException>(() => buffer.Detach(attachment)));

        Assert.False(attachment.IsAttached);
        Assert.Equal(new[] { other }, buffer.Attachments);
        Assert.Throws<ArgumentException>(() => buffer.Detach(attachment));
        exporter.OnDetach = null;
        buffer.Detach(other);
        buffer.Put();
    }

    [Theory]
    [MemberData(nameof(ValidatorModes.OffAndOn), MemberType = typeof(ValidatorModes))]
    public void ADetachOfAMappedAttachmentWhoseExporterThrowsStillUnmapsAndDetaches(bool validator)
    {
        if (validator)
        {
            // With the validator on, such a detach is refused first (DMA0009) and changes nothing.
            (TrackingExporter exporter, DmaBuffer buffer, DmaBufAttachment attachment, ScatterGatherTable table) = Mapped();
            exporter.OnUnmap = t => throw ExporterBug();
            BufferState before = BufferState.Of(buffer);
            Assert.Equal("DMA0009", Assert.Throws<DmaBufUsageException>(() => buffer.Detach(attachment)).RuleId);
            before.AssertUnchanged();
            Assert.True(table.IsMapped);
            exporter.OnUnmap = null;
            TearDown(buffer, attachment, table);
        }
        else
        {
            ChildProcess.Run<ExporterFailureTests>(nameof(DetachMappedWhileTheExporterThrows), validator: false);
        }
    }

    internal static void DetachMappedWhileTheExporterThrows()
    {
        foreach (bool unmapThrows in new[] { true, false })
        {
            var exporter = TrackingExporter.OverSystemHeap();
            DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));
            DmaBufAttachment attachment = buffer.Attach(new Device("dev"));
            ScatterGatherTable first = buffer.MapAttachment(attachment, DmaDataDirection.ToDevice);
            ScatterGatherTable second = buffer.MapAttachment(attachment, DmaDataDirection.FromDevice);
            if (unmapThrows)
            {
                exporter.OnUnmap = t => { if (ReferenceEquals(t, first)) { throw ExporterBug(); } };
            }
            else
            {
                exporter.OnDetach = a => throw ExporterBug();
            }

            AssertWrapsExporterBug(Assert.Throws<DmaBufException>(() => buffer.Detach(attachment)));

            Assert.False(attachment.IsAttached);
            Assert.Empty(buffer.Attachments);
            Assert.False(first.IsMapped);
            Assert.False(second.IsMapped);
            Assert.Equal(0, buffer.MappedTableCount);
            Assert.Equal(0, attachment.MappedTableCount);
            Assert.Equal(unmapThrows ? 1 : 2, exporter.UnmapCalls);
            Assert.Equal(unmapThrows ? 1 : 0, exporter.DetachCalls);
            buffer.Put();
            Assert.True(buffer.IsReleased);
        }
    }

    [Fact]
    public void AnUnmapWhoseExporterThrowsChangesNothing()
    {
        (TrackingExporter exporter, DmaBuffer buffer, DmaBufAttachment attachment, ScatterGatherTable table) = Mapped();
        exporter.OnUnmap = t => throw ExporterBug();
        BufferState before = BufferState.Of(buffer);

        Assert.Equal("the exporter failed", Assert.Throws<InvalidOperationException>(() => buffer.UnmapAttachment(attachment, table)).Message);

        before.AssertUnchanged();
        Assert.True(table.IsMapped);
        exporter.OnUnmap = null;
        TearDown(buffer, attachment, table);
    }

    [Fact]
    public void AnExporterThatReturnsATableAlreadyMappedIsEinvalAndIsToldToUnmapIt()
    {
        (TrackingExporter exporter, DmaBuffer buffer, DmaBufAttachment attachment, ScatterGatherTable table) = Mapped();
        ScatterGatherTable unmapped = buffer.MapAttachment(attachment, DmaDataDirection.ToDevice);
        buffer.UnmapAttachment(attachment, unmapped);
        BufferState before = BufferState.Of(buffer);

        foreach (ScatterGatherTable again in new[] { table, unmapped })
        {
            exporter.MapResult = () => again;
            var e = Assert.Throws<DmaBufException>(() => buffer.MapAttachment(attachment, DmaDataDirection.FromDevice));

            Assert.Equal(Errno.EINVAL, e.Errno);
            before.AssertUnchanged();
            Assert.Equal(DmaDataDirection.ToDevice, again.Direction);
            Assert.Same(attachment, again.Attachment);

            // The exporter mapped once more than the runtime keeps, and was told to unmap that one: they agree.
            Assert.Equal(buffer.MappedTableCount, exporter.MapCalls - exporter.UnmapCalls);
        }

        Assert.True(table.IsMapped);
        exporter.MapResult = null;
        TearDown(buffer, attachment, table);
    }

    [Fact]
    public void ATableWhoseSegmentsOverflowIsAnArgumentError()
    {
        Assert.Equal("entries", Assert.Throws<ArgumentException>(() => new ScatterGatherTable(new[]
        {
            new ScatterGatherEntry(0x1000, long.MaxValue),
            new ScatterGatherEntry(0x2000, 1),
        })).ParamName);
        Assert.Equal("entries", Assert.Throws<ArgumentException>(() => new ScatterGatherTable(new[]
        {
            new ScatterGatherEntry(ulong.MaxValue - 10, 4096),
        })).ParamName);
        Assert.Equal(long.MaxValue, new ScatterGatherTable(new[] { new ScatterGatherEntry(0, long.MaxValue - 1), new ScatterGatherEntry(0, 1) }).TotalLength);
    }
}

/// <summary>A release that throws (item 10): the buffer is released all the same, and the failure is reported as EIO.</summary>
[Collection(ProcessStateCollection.Name)]
public class ReleaseFailureTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AReleaseThatThrowsStillReleasesTheBufferAndReportsItAsEio(bool throughDescriptor)
    {
        long live = DmaBuffer.LiveBufferCount;
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));
        buffer.BeginCpuAccess(0, PageSize, DmaDataDirection.ToDevice);
        buffer.EndCpuAccess(0, PageSize, DmaDataDirection.ToDevice);
        int fd = buffer.Fd();
        if (throughDescriptor)
        {
            buffer.Put();
        }
        else
        {
            DmaBuffer.CloseFd(fd);
        }

        exporter.OnRelease = () => throw new InvalidOperationException("the exporter failed");

        var e = Assert.Throws<DmaBufException>(() =>
        {
            if (throughDescriptor)
            {
                DmaBuffer.CloseFd(fd);
            }
            else
            {
                buffer.Put();
            }
        });

        Assert.Equal(Errno.EIO, e.Errno);
        Assert.IsType<InvalidOperationException>(e.InnerException);
        Assert.True(buffer.IsReleased);
        Assert.Equal(0, buffer.ReferenceCount);
        Assert.Null(exporter.Buffer);
        Assert.Equal(1, exporter.ReleaseCalls);
        Assert.Equal(live, DmaBuffer.LiveBufferCount);
        Assert.Throws<ObjectDisposedException>(buffer.Put);
        Assert.Throws<ArgumentException>(() => DmaBuffer.Get(fd));
    }
}
