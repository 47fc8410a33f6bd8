// Races of the last put, run for at least ten seconds in a child process (a wrong runtime corrupts the heap and
// crashes it), with the validator off and on: the last put against plain and atomic kmaps that write through
// their pages and against device DMA through a mapped table, atomic mappings handed to another thread, and threads
// that exit holding one.
using System;
using System.Collections.Concurrent;
using System.Threading;
using static DmaBuf.Runtime.Tests.TestSupport;

namespace DmaBuf.Runtime.Tests;

public class ReleaseRaceStressTests
{
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(10);

    [Theory]
    [MemberData(nameof(ValidatorModes.OffAndOn), MemberType = typeof(ValidatorModes))]
    public void TheLastPutRacingMappingsHandOffsAndExitsStaysSafeAndLeaksNothing(bool validator) =>
        ChildProcess.Run<ReleaseRaceStressTests>(nameof(RaceForTenSeconds), validator, timeoutSeconds: 300);

    internal static void RaceForTenSeconds()
    {
        var totals = new Totals();
        int rounds = RunRounds(Duration, round => Round(round, totals), () => totals.ToString());
        Assert.True(rounds >= 100, $"only {rounds} rounds ran");
        Assert.True(totals.Mapped > 0 && totals.Refused > 0 && totals.HandOffs > 0, totals.ToString());
    }

    private sealed class Totals
    {
        public long Mapped;
        public long Refused;
        public long HandOffs;
        public long Dma;

        public override string ToString() => $"{Mapped} pages mapped and written, {Refused} calls refused after the put, {HandOffs} atomic hand-offs, {Dma} DMA transfers";
    }

    private static void Round(int round, Totals totals)
    {
        bool validator = DmaBufValidation.IsEnabled;
        long bytesBefore = DmaBufMemory.BytesInUse;
        DmaBufExporter exporter = round % 2 == 0 ? new SystemHeapExporter() : new NonCoherentExporter();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(8));
        int fd = buffer.Fd();
        var device = new Device("dev");
        DmaBufAttachment attachment = buffer.Attach(device);
        ScatterGatherTable table = buffer.MapAttachment(attachment, DmaDataDirection.Bidirectional);
        buffer.BeginCpuAccess(0, buffer.Size, DmaDataDirection.Bidirectional);
        var failures = new ConcurrentQueue<Exception>();
        using var stop = new CancellationTokenSource();
        using var start = new Barrier(6);

        // Refused after the put: ObjectDisposedException; with the validator on also DMA0007/DMA0006 once the access
        // is ended, and a table the putter unmapped.
        bool Refused(Exception e) =>
            e is ObjectDisposedException
            || (validator && e is DmaBufUsageException { RuleId: "DMA0007" or "DMA0006" })
            || (validator && e is ArgumentException { ParamName: "table" });

        void Worker(Action step)
        {
            start.SignalAndWait();
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    step();
                }
            }
            catch (Exception e) when (Refused(e))
            {
                Interlocked.Increment(ref totals.Refused);
            }
            catch (Exception e)
            {
                failures.Enqueue(e);
            }
        }

        void MapAndWrite(long pageNumber, bool atomic)
        {
            DmaBufPage page = atomic ? buffer.KmapAtomic(pageNumber) : buffer.Kmap(pageNumber);
            Span<byte> span = page.Span;
            span.Fill((byte)(pageNumber + 1));
            Assert.Equal((byte)(pageNumber + 1), span[PageSize - 1]);
            if (atomic)
            {
                buffer.KunmapAtomic(pageNumber, page);
            }
            else
            {
                buffer.Kunmap(pageNumber, page);
            }

            Interlocked.Increment(ref totals.Mapped);
        }

        var threads = new[]
        {
            new Thread(() => Worker(() => MapAndWrite(round % 2, atomic: true))),
            new Thread(() => Worker(() => MapAndWrite(2 + (round % 2), atomic: false))),
            new Thread(() => Worker(() =>
            {
                var bytes = new byte[PageSize];
                device.DmaWrite(table, Pages(4), bytes);
                device.DmaRead(table, Pages(5), bytes);
                Interlocked.Increment(ref totals.Dma);
            })),
            new Thread(() => Worker(() => HandOff(buffer, 6, totals))),
            new Thread(() =>
            {
                // A thread that exits holding an atomic mapping must not pin the buffer.
                start.SignalAndWait();
                try
                {
                    buffer.KmapAtomic(7).Span[0] = 1;
                }
                catch (Exception e) when (Refused(e))
                {
                }
                catch (Exception e)
                {
                    failures.Enqueue(e);
                }
            }),
        };
        foreach (Thread thread in threads)
        {
            thread.Start();
        }

        long handOffsBefore = Interlocked.Read(ref totals.HandOffs);
        start.SignalAndWait();
        if (round % 8 == 7)
        {
            // On a loaded machine the put can win every race before a hand-off's second thread starts: every eighth
            // round lets one hand-off finish first, so that the run always covers them.
            SpinWait.SpinUntil(() => Interlocked.Read(ref totals.HandOffs) > handOffsBefore || !failures.IsEmpty, TimeSpan.FromSeconds(30));
        }

        Thread.SpinWait(round % 7 * 2000);
        try
        {
            LastPuts(buffer, fd, attachment, table, round);
        }
        catch (Exception e)
        {
            failures.Enqueue(e);
        }

        stop.Cancel();
        foreach (Thread thread in threads)
        {
            thread.Join();
        }

        Assert.Empty(failures);
        Assert.True(buffer.IsReleased);
        Assert.Null(exporter.Buffer);
        Assert.Equal(0, buffer.MappedPageCount);
        Assert.Equal(0, buffer.MappedTableCount);
        Assert.Equal(bytesBefore, DmaBufMemory.BytesInUse);
        Assert.Equal(0, DmaBufValidation.AtomicMappingsHeldByCurrentThread);
    }

    /// <summary>
    /// Puts the buffer's two references (its own and the descriptor's) in an order that depends on the round. With the
    /// validator on the access is ended and the table unmapped first, and a put refused for a mapping still held (by a
    /// worker, or reported once for a thread that exited holding it) is tried again.
    /// </summary>
    private static void LastPuts(DmaBuffer buffer, int fd, DmaBufAttachment attachment, ScatterGatherTable table, int round)
    {
        if (DmaBufValidation.IsEnabled)
        {
            buffer.EndCpuAccess(0, buffer.Size, DmaDataDirection.Bidirectional);
            buffer.UnmapAttachment(attachment, table);
            buffer.Detach(attachment);
        }

        Action first = round % 4 < 2 ? buffer.Put : () => DmaBuffer.CloseFd(fd);
        Action last = round % 4 < 2 ? () => DmaBuffer.CloseFd(fd) : buffer.Put;
        first();
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                last();
                return;
            }
            catch (DmaBufUsageException e) when (e.RuleId == "DMA0003" && attempt < 100_000)
            {
                Thread.Yield();
            }
        }
    }

    /// <summary>
    /// An atomic mapping made on this thread and unmapped on another one, as after an await that resumed elsewhere: with
    /// the validator on that is reported once, as DMA0005, and no longer counted for this thread; with it off it is allowed.
    /// </summary>
    private static void HandOff(DmaBuffer buffer, long pageNumber, Totals totals)
    {
        DmaBufPage page = buffer.KmapAtomic(pageNumber);
        int mapper = Environment.CurrentManagedThreadId;
        Exception? failure = null;
        var other = new Thread(() =>
        {
            try
            {
                buffer.KunmapAtomic(pageNumber, page);
                Assert.False(DmaBufValidation.IsEnabled, "an atomic mapping unmapped on another thread was not reported");
            }
            catch (DmaBufUsageException e) when (e.RuleId == "DMA0005")
            {
                Assert.Contains($"thread {mapper}", e.Message, StringComparison.Ordinal);
                Assert.Contains($"thread {Environment.CurrentManagedThreadId}", e.Message, StringComparison.Ordinal);
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        other.Start();
        other.Join();
        if (failure is not null)
        {
            throw failure;
        }

        Assert.Equal(0, DmaBufValidation.AtomicMappingsHeldByCurrentThread);
        DmaBufValidation.MightSleep();
        Interlocked.Increment(ref totals.HandOffs);
    }
}
