// Descriptor numbers are reused at once, lowest free first, as POSIX file descriptors are: a
// descriptor kept after its close may name another buffer. Code that keeps descriptors detects that by passing the
// buffer's Id to Get and CloseFd, which then refuse a number that no longer names that buffer.
using System;

namespace DmaBuf.Runtime.Tests;

[Collection(ProcessStateCollection.Name)]
public class DescriptorReuseTests
{
    [Fact]
    public void AStaleDescriptorNamesTheBufferItWasReusedFor()
    {
        DmaBuffer a = DmaBuffer.Export(new SystemHeapExporter(), DmaBuffer.PageSize);
        DmaBuffer b = DmaBuffer.Export(new SystemHeapExporter(), DmaBuffer.PageSize);
        int stale = a.Fd();
        DmaBuffer.CloseFd(stale);
        int fdB = b.Fd();
        Assert.Equal(stale, fdB);

        // As in POSIX: the old number now reaches the other buffer, and closing it closes the other buffer's descriptor.
        DmaBuffer got = DmaBuffer.Get(stale);
        Assert.Same(b, got);
        got.Put();
        DmaBuffer.CloseFd(stale);
        Assert.Throws<ArgumentException>(() => DmaBuffer.Get(fdB));
        a.Put();
        b.Put();
    }

    [Fact]
    public void GetAndCloseWithTheBufferIdRefuseADescriptorReusedForAnotherBuffer()
    {
        DmaBuffer a = DmaBuffer.Export(new SystemHeapExporter(), DmaBuffer.PageSize);
        DmaBuffer b = DmaBuffer.Export(new SystemHeapExporter(), DmaBuffer.PageSize);
        int stale = a.Fd();
        long idA = a.Id;
        DmaBuffer.CloseFd(stale, idA);
        int fdB = b.Fd();
        Assert.Equal(stale, fdB);

        Assert.Equal("fd", Assert.Throws<ArgumentException>(() => DmaBuffer.Get(stale, idA)).ParamName);
        Assert.Equal("fd", Assert.Throws<ArgumentException>(() => DmaBuffer.CloseFd(stale, idA)).ParamName);

        Assert.Equal(1, a.ReferenceCount);
        Assert.Equal(2, b.ReferenceCount);
        DmaBuffer got = DmaBuffer.Get(fdB, b.Id);
        Assert.Same(b, got);
        got.Put();
        DmaBuffer.CloseFd(fdB, b.Id);
        Assert.Equal(1, b.ReferenceCount);
        Assert.Throws<ArgumentException>(() => DmaBuffer.Get(fdB, b.Id));
        a.Put();
        b.Put();
    }
}
