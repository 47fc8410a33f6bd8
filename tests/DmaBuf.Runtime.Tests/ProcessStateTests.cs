// The process-wide state, in tests that run alone: live buffers and native bytes counted from export (or allocation) to
// release, failed exports and Puts counting nothing, and descriptors that name a buffer until closed and are reused
// lowest first.
using System;
using static DmaBuf.Runtime.Tests.TestSupport;

namespace DmaBuf.Runtime.Tests;

/// <summary>Tests that read process-wide state run alone: xunit runs the other test classes in parallel.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessStateCollection
{
    public const string Name = "Process-wide state";
}

/// <summary>The process-wide counters (live buffers, native bytes) and the descriptor table.</summary>
[Collection(ProcessStateCollection.Name)]
public class ProcessStateTests
{
    [Fact]
    public void LiveBuffersAreCountedFromExportToRelease()
    {
        long before = DmaBuffer.LiveBufferCount;

        DmaBuffer a = DmaBuffer.Export(new SystemHeapExporter(), PageSize);
        DmaBuffer b = DmaBuffer.Export(new NonCoherentExporter(), PageSize);
        int fd = b.Fd();
        Assert.Equal(before + 2, DmaBuffer.LiveBufferCount);

        a.Put();
        b.Put();
        Assert.Equal(before + 1, DmaBuffer.LiveBufferCount);
        DmaBuffer.CloseFd(fd);
        Assert.Equal(before, DmaBuffer.LiveBufferCount);
    }

    [Fact]
    public void FailedExportsAndFailedPutsCountNothing()
    {
        long before = DmaBuffer.LiveBufferCount;
        var exporter = new SystemHeapExporter();
        DmaBuffer buffer = DmaBuffer.Export(exporter, PageSize);

        Assert.Throws<ArgumentOutOfRangeException>(() => DmaBuffer.Export(new SystemHeapExporter(), 0));
        Assert.Throws<ArgumentException>(() => DmaBuffer.Export(exporter, PageSize));
        buffer.BeginCpuAccess(0, PageSize, DmaDataDirection.ToDevice);
        Assert.Throws<DmaBufUsageException>(buffer.Put);
        Assert.Equal(before + 1, DmaBuffer.LiveBufferCount);

        buffer.EndCpuAccess(0, PageSize, DmaDataDirection.ToDevice);
        buffer.Put();
        Assert.Throws<ObjectDisposedException>(buffer.Put);
        Assert.Equal(before, DmaBuffer.LiveBufferCount);
    }

    [Fact]
    public void NativeBytesAreCountedFromAllocationToRelease()
    {
        long before = DmaBufMemory.BytesInUse;
        DmaBuffer heap = DmaBuffer.Export(new SystemHeapExporter(), Pages(3) + 1);
        DmaBuffer cache = DmaBuffer.Export(new NonCoherentExporter(), Pages(2));
        Assert.Equal(before, DmaBufMemory.BytesInUse);

        heap.BeginCpuAccess(0, PageSize, DmaDataDirection.ToDevice);
        cache.BeginCpuAccess(0, PageSize, DmaDataDirection.ToDevice);
        Assert.Equal(before + Pages(4) + (2 * Pages(2)), DmaBufMemory.BytesInUse);

        heap.EndCpuAccess(0, PageSize, DmaDataDirection.ToDevice);
        cache.EndCpuAccess(0, PageSize, DmaDataDirection.ToDevice);
        heap.Put();
        Assert.Equal(before + (2 * Pages(2)), DmaBufMemory.BytesInUse);
        cache.Put();
        Assert.Equal(before, DmaBufMemory.BytesInUse);
    }

    [Fact]
    public void ASegmentedSystemHeapBufferCountsEverySegment()
    {
        long before = DmaBufMemory.BytesInUse;
        var exporter = new SystemHeapExporter();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(7));
        DmaBufAttachment attachment = buffer.Attach(new Device("dev") { MaxSegmentSize = Pages(2) });

        ScatterGatherTable table = buffer.MapAttachment(attachment, DmaDataDirection.ToDevice);

        Assert.Equal(4, table.Entries.Count);
        Assert.Equal(before + Pages(7), DmaBufMemory.BytesInUse);
        Assert.Equal(Pages(7), exporter.AllocatedBytes);
        buffer.UnmapAttachment(attachment, table);
        buffer.Detach(attachment);
        buffer.Put();
        Assert.Equal(before, DmaBufMemory.BytesInUse);
    }

    [Fact]
    public void AClosedDescriptorNoLongerNamesTheBuffer()
    {
        DmaBuffer buffer = DmaBuffer.Export(new SystemHeapExporter(), PageSize);
        int fd = buffer.Fd();
        int other = buffer.Fd();
        Assert.True(fd > 0);
        Assert.True(other > 0);
        Assert.NotEqual(fd, other);

        DmaBuffer.CloseFd(fd);

        Assert.Equal("fd", Assert.Throws<ArgumentException>(() => DmaBuffer.Get(fd)).ParamName);
        Assert.Equal("fd", Assert.Throws<ArgumentException>(() => DmaBuffer.CloseFd(fd)).ParamName);
        Assert.Equal(2, buffer.ReferenceCount);
        Assert.Same(buffer, DmaBuffer.Get(other));
        buffer.Put();
        DmaBuffer.CloseFd(other);
        buffer.Put();
        Assert.True(buffer.IsReleased);
        Assert.Throws<ArgumentException>(() => DmaBuffer.Get(other));
    }

    [Fact]
    public void ADescriptorNumberIsReusedOnlyAfterItIsClosed()
    {
        DmaBuffer a = DmaBuffer.Export(new SystemHeapExporter(), PageSize);
        DmaBuffer b = DmaBuffer.Export(new SystemHeapExporter(), PageSize);
        int fdA = a.Fd();

        DmaBuffer.CloseFd(fdA);
        int fdB = b.Fd();

        // Like a process's file descriptors, the lowest free number comes back; it now names the other buffer.
        Assert.Equal(fdA, fdB);
        Assert.Same(b, DmaBuffer.Get(fdB));
        Assert.Equal(1, a.ReferenceCount);
        Assert.Equal(3, b.ReferenceCount);
        b.Put();
        DmaBuffer.CloseFd(fdB);
        a.Put();
        b.Put();
        Assert.True(a.IsReleased);
        Assert.True(b.IsReleased);
    }
}
