// Several threads at once on shared buffers: Get and Put through descriptors, attach/detach, map/unmap, begin/end and
// kmaps leave every count balanced, and racing last Puts and closes release a buffer exactly once.
using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using static DmaBuf.Runtime.Tests.TestSupport;

namespace DmaBuf.Runtime.Tests;

/// <summary>
/// Bounded multi-threaded runs over shared buffers: references through descriptors, attach/detach, map/unmap,
/// begin/end and kmap/kunmap from several threads at once leave every count right, and release runs once.
/// </summary>
public class StressTests
{
    private const int Threads = 4;
    private const int Iterations = 250;

    /// <summary>Runs <paramref name="body"/> on <see cref="Threads"/> threads released together, and fails with the first exception any of them threw.</summary>
    private static void RunTogether(Action<int> body)
    {
        var failures = new ConcurrentQueue<Exception>();
        using var start = new Barrier(Threads);
        Thread[] threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            try
            {
                body(t);
            }
            catch (Exception e)
            {
                failures.Enqueue(e);
            }
        })).ToArray();

        foreach (Thread thread in threads)
        {
            thread.Start();
        }

        foreach (Thread thread in threads)
        {
            thread.Join();
        }

        Assert.Empty(failures);
    }

    private sealed class Shared
    {
        public Shared(TrackingExporter exporter, long size, Func<int, Device> device)
        {
            Exporter = exporter;
            Buffer = DmaBuffer.Export(exporter, size);
            Fd = Buffer.Fd();
            NewDevice = device;
        }

        public TrackingExporter Exporter { get; }

        public DmaBuffer Buffer { get; }

        public int Fd { get; }

        public Func<int, Device> NewDevice { get; }
    }

    /// <summary>One thread's work on one buffer: everything an importer does, correctly paired.</summary>
    private static void Work(Shared shared, Shared other, int thread, int iteration)
    {
        DmaBuffer buffer = DmaBuffer.Get(shared.Fd);
        Assert.Same(shared.Buffer, buffer);
        long pages = buffer.PageCount;

        // Attach, map in a direction, move some bytes, unmap, detach.
        Device device = shared.NewDevice(iteration);
        DmaBufAttachment attachment = buffer.Attach(device);
        var direction = (DmaDataDirection)(iteration % 3);
        ScatterGatherTable table = buffer.MapAttachment(attachment, direction);
        var bytes = new byte[64];
        long offset = (iteration * 97L) % (buffer.Size - bytes.Length);
        if (direction != DmaDataDirection.ToDevice)
        {
            bytes.AsSpan().Fill((byte)thread);
            device.DmaWrite(table, offset, bytes);
        }

        if (direction != DmaDataDirection.FromDevice)
        {
            device.DmaRead(table, offset, bytes);
        }

        // CPU access over a range of its own, with plain and atomic kmaps inside it.
        long first = (thread + iteration) % pages;
        long last = Math.Min(pages - 1, first + 1);
        long start = Math.Min(Pages(first) + (iteration % 100), buffer.Size - 1);
        long length = Math.Min(buffer.Size, Pages(last + 1)) - start;
        buffer.BeginCpuAccess(start, length, DmaDataDirection.Bidirectional);
        using (DmaBufPage page = buffer.Kmap(last))
        {
            page.Span[thread] = (byte)iteration;
        }

        DmaBufPage atomicA = buffer.KmapAtomic(first);
        DmaBufPage atomicB = buffer.KmapAtomic(last);
        atomicA.Span[0] ^= atomicB.Span[1];
        buffer.KunmapAtomic(last, atomicB);
        buffer.KunmapAtomic(first, atomicA);

        // A scope on another shared buffer, and atomic mappings of two buffers held at once.
        using (other.Buffer.CpuAccess(0, PageSize, DmaDataDirection.FromDevice))
        using (buffer.CpuAccess(Pages(first), Math.Min(PageSize, buffer.Size - Pages(first)), DmaDataDirection.ToDevice))
        using (DmaBufPage fromOther = other.Buffer.KmapAtomic(0))
        using (DmaBufPage ofMine = buffer.KmapAtomic(first))
        {
            ofMine.Span[2] = fromOther.Span[2];
            Assert.Equal(2, DmaBufValidation.AtomicMappingsHeldByCurrentThread);
        }

        buffer.EndCpuAccess(start, length, DmaDataDirection.Bidirectional);
        buffer.UnmapAttachment(attachment, table);
        buffer.Detach(attachment);

        // Now and then, a descriptor of its own: install, import through it, close.
        if (iteration % 10 == thread)
        {
            int fd = buffer.Fd();
            DmaBuffer.Get(fd).Put();
            DmaBuffer.CloseFd(fd);
        }

        buffer.Put();
    }

    [Fact]
    public void SharedBuffersStayConsistentUnderConcurrentUse()
    {
        Shared[] shared =
        {
            new(TrackingExporter.OverSystemHeap(), Pages(8), _ => new Device("heap device")),
            new(TrackingExporter.OverNonCoherent(), Pages(6) + 100, i => new Device("cache device") { MaxSegmentSize = Pages(1 + (i % 3)) }),
            new(TrackingExporter.OverSystemHeap(), Pages(3) + 1, i => new Device("strict device") { MaxSegmentCount = 1 + (i % 2) }),
        };

        RunTogether(thread =>
        {
            for (int i = 0; i < Iterations; i++)
            {
                int which = (thread + i) % shared.Length;
                Work(shared[which], shared[(which + 1) % shared.Length], thread, i);
            }

            Assert.Equal(0, DmaBufValidation.AtomicMappingsHeldByCurrentThread);
        });

        foreach (Shared s in shared)
        {
            DmaBuffer buffer = s.Buffer;
            TrackingExporter exporter = s.Exporter;
            Assert.Equal(2, buffer.ReferenceCount);
            Assert.Equal(0, buffer.MappedTableCount);
            Assert.Equal(0, buffer.MappedPageCount);
            Assert.Empty(buffer.BegunCpuAccesses);
            Assert.Empty(buffer.Attachments);
            Assert.False(buffer.IsReleased);
            Assert.Equal(0, exporter.ReleaseCalls);
            Assert.Equal(exporter.AttachCalls, exporter.DetachCalls);
            Assert.Equal(exporter.MapCalls, exporter.UnmapCalls);
            Assert.Equal(exporter.BeginCalls, exporter.EndCalls);
            Assert.Equal(exporter.KmapCalls, exporter.KunmapCalls);
            Assert.Equal(exporter.KmapAtomicCalls, exporter.KunmapAtomicCalls);
        }

        // Every iteration attached exactly once, to one of the buffers.
        Assert.Equal(Threads * Iterations, shared.Sum(s => s.Exporter.AttachCalls));

        foreach (Shared s in shared)
        {
            DmaBuffer.CloseFd(s.Fd);
            s.Buffer.Put();
            Assert.True(s.Buffer.IsReleased);
            Assert.Equal(0, s.Buffer.ReferenceCount);
            Assert.Equal(1, s.Exporter.ReleaseCalls);
            Assert.Same(s.Buffer, s.Exporter.ReleasedBuffer);
            Assert.Equal(0, s.Exporter.AllocatedBytes);
        }
    }

    [Fact]
    public void RacingLastPutsAndClosesReleaseExactlyOnce()
    {
        const int Rounds = 40;
        for (int round = 0; round < Rounds; round++)
        {
            var exporter = round % 2 == 0 ? TrackingExporter.OverSystemHeap() : TrackingExporter.OverNonCoherent();
            DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));
            using (buffer.CpuAccess(0, PageSize, DmaDataDirection.ToDevice))
            {
                buffer.Kunmap(0, buffer.Kmap(0));
            }

            // One reference per thread: the exporter's, two taken with Get, and one held by a descriptor.
            int fd = buffer.Fd();
            DmaBuffer[] references = { buffer, DmaBuffer.Get(fd), DmaBuffer.Get(fd) };
            Assert.Equal(Threads, buffer.ReferenceCount);

            RunTogether(thread =>
            {
                if (thread < references.Length)
                {
                    references[thread].Put();
                }
                else
                {
                    DmaBuffer.CloseFd(fd);
                }
            });

            Assert.True(buffer.IsReleased);
            Assert.Equal(0, buffer.ReferenceCount);
            Assert.Equal(1, exporter.ReleaseCalls);
            Assert.Equal(0, exporter.AllocatedBytes);
            Assert.Null(exporter.Buffer);
        }
    }

    [Fact]
    public void ConcurrentGetsAndPutsThroughOneDescriptorBalance()
    {
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, PageSize);
        int fd = buffer.Fd();
        int peak = 0;

        RunTogether(thread =>
        {
            for (int i = 0; i < Iterations * 10; i++)
            {
                DmaBuffer a = DmaBuffer.Get(fd);
                DmaBuffer b = DmaBuffer.Get(fd);
                int seen = a.ReferenceCount;
                InterlockedMax(ref peak, seen);
                Assert.True(seen >= 4, $"{seen} references while this thread holds two and the owner and descriptor one each");
                b.Put();
                a.Put();
            }
        });

        Assert.Equal(2, buffer.ReferenceCount);
        Assert.InRange(peak, 4, 2 + (2 * Threads));
        DmaBuffer.CloseFd(fd);
        buffer.Put();
        Assert.Equal(1, exporter.ReleaseCalls);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current = Volatile.Read(ref target);
        while (value > current)
        {
            int seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
