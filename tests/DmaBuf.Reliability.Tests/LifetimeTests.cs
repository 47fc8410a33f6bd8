// A buffer's lifetime across threads: concurrent Puts release it exactly once and free its native memory, the shipped
// exporters hold nothing after the last Put, and a buffer never put stays counted through garbage collection.
using System;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;

namespace DmaBuf.Reliability.Tests;

/// <summary>Process-wide counters: these tests run alone so that no other test's buffers move the counts.</summary>
[CollectionDefinition(nameof(ProcessWide), DisableParallelization = true)]
public sealed class ProcessWide
{
}

/// <summary>Release exactly once under concurrent Put, no native memory left after the last Put, and a visible leak for a buffer never put.</summary>
[Collection(nameof(ProcessWide))]
public sealed class LifetimeTests
{
    private const int PutThreads = 16;
    private const int ReferencesPerThread = 64;

    [Fact]
    public void ConcurrentPutsFromManyThreadsReleaseExactlyOnceAndFreeAllNativeMemory()
    {
        long bytesBefore = DmaBufMemory.BytesInUse;
        long liveBefore = DmaBuffer.LiveBufferCount;
        for (int round = 0; round < 20; round++)
        {
            var exporter = new CountingExporter();
            DmaBuffer buffer = DmaBuffer.Export(exporter, 8 * DmaBuffer.PageSize);
            exporter.Touch(buffer);
            int fd = buffer.Fd();
            for (int i = 1; i < PutThreads * ReferencesPerThread; i++)
            {
                DmaBuffer.Get(fd);
            }

            DmaBuffer.CloseFd(fd); // the descriptor's reference; PutThreads * ReferencesPerThread remain
            Assert.True(exporter.Allocated > 0);
            using var start = new Barrier(PutThreads);
            var threads = Enumerable.Range(0, PutThreads).Select(_ => new Thread(() =>
            {
                start.SignalAndWait();
                for (int i = 0; i < ReferencesPerThread; i++)
                {
                    buffer.Put();
                }
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());

            Assert.Equal(1, exporter.Releases);
            Assert.True(buffer.IsReleased);
            Assert.Equal(0, exporter.Allocated);
            Assert.Throws<ObjectDisposedException>(() => buffer.Put());
            Assert.Equal(1, exporter.Releases);
        }

        Assert.Equal(bytesBefore, DmaBufMemory.BytesInUse);
        Assert.Equal(liveBefore, DmaBuffer.LiveBufferCount);
    }

    [Fact]
    public void ShippedExportersHoldNoNativeMemoryAfterTheLastPut()
    {
        long before = DmaBufMemory.BytesInUse;
        DmaBuffer heap = DmaBuffer.Export(new SystemHeapExporter(), 3 * DmaBuffer.PageSize);
        DmaBuffer nonCoherent = DmaBuffer.Export(new NonCoherentExporter(), 3 * DmaBuffer.PageSize);
        heap.BeginCpuAccess(0, 1, DmaDataDirection.ToDevice);
        nonCoherent.BeginCpuAccess(0, 1, DmaDataDirection.ToDevice);
        Assert.Equal(before + (3 * DmaBuffer.PageSize) + (2 * 3 * DmaBuffer.PageSize), DmaBufMemory.BytesInUse);

        heap.EndCpuAccess(0, 1, DmaDataDirection.ToDevice);
        nonCoherent.EndCpuAccess(0, 1, DmaDataDirection.ToDevice);
        heap.Put();
        nonCoherent.Put();

        Assert.Equal(before, DmaBufMemory.BytesInUse);
    }

    [Fact]
    public void ABufferThatIsNeverPutStaysCountedThroughGarbageCollectionWithoutAFinalizerSurprise()
    {
        long liveBefore = DmaBuffer.LiveBufferCount;
        long bytesBefore = DmaBufMemory.BytesInUse;

        ExportAndForget();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        // The leak is visible, and nothing freed memory behind the program's back.
        Assert.Equal(liveBefore + 1, DmaBuffer.LiveBufferCount);
        Assert.Equal(bytesBefore + DmaBuffer.PageSize, DmaBufMemory.BytesInUse);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ExportAndForget()
    {
        DmaBuffer leaked = DmaBuffer.Export(new SystemHeapExporter(), DmaBuffer.PageSize);
        leaked.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        leaked.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }

    /// <summary>A minimal exporter over native memory that counts its releases.</summary>
    private sealed unsafe class CountingExporter : DmaBufExporter
    {
        private nint _memory;
        private int _releases;
        private long _allocated;

        public int Releases => Volatile.Read(ref _releases);

        public long Allocated => Interlocked.Read(ref _allocated);

        protected override void Attach(DmaBufAttachment attachment)
        {
        }

        protected override ScatterGatherTable MapDmaBuf(DmaBufAttachment attachment, DmaDataDirection direction) =>
            new(new[] { new ScatterGatherEntry((ulong)Memory(attachment.Buffer), attachment.Buffer.Size) });

        protected override void UnmapDmaBuf(DmaBufAttachment attachment, ScatterGatherTable table)
        {
        }

        protected override void Release(DmaBuffer buffer)
        {
            Interlocked.Increment(ref _releases);
            nint memory = Interlocked.Exchange(ref _memory, 0);
            if (memory != 0)
            {
                NativeMemory.Free((void*)memory);
                Interlocked.Exchange(ref _allocated, 0);
            }
        }

        protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber) => Memory(buffer) + (nint)(pageNumber * DmaBuffer.PageSize);

        protected override nint Kmap(DmaBuffer buffer, long pageNumber) => Memory(buffer) + (nint)(pageNumber * DmaBuffer.PageSize);

        private nint Memory(DmaBuffer buffer)
        {
            if (_memory == 0)
            {
                long bytes = buffer.PageCount * DmaBuffer.PageSize;
                _memory = (nint)NativeMemory.AllocZeroed((nuint)bytes);
                _allocated = bytes;
            }

            return _memory;
        }

        public void Touch(DmaBuffer buffer) => Memory(buffer);
    }
}
