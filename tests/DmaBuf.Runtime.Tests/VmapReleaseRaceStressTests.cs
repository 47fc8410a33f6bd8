// The last put racing vmaps, writes through their spans and vunmaps of one vmap on two threads, for a few seconds in a
// child process (a wrong runtime could corrupt memory and crash it), with the validator off and on.
using System;
using System.Collections.Concurrent;
using System.Threading;
using static DmaBuf.Runtime.Tests.TestSupport;

namespace DmaBuf.Runtime.Tests;

public class VmapReleaseRaceStressTests
{
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(4);

    [Theory]
    [MemberData(nameof(ValidatorModes.OffAndOn), MemberType = typeof(ValidatorModes))]
    public void TheLastPutRacingVmapsAndVunmapsStaysSafeAndLeaksNothing(bool validator) =>
        ChildProcess.Run<VmapReleaseRaceStressTests>(nameof(Race), validator, timeoutSeconds: 120);

    internal static void Race()
    {
        long vmaps = 0, refused = 0;
        int rounds = RunRounds(Duration, round => Round(round, ref vmaps, ref refused), () => $"{vmaps} vmaps written through, {refused} calls refused");
        Assert.True(rounds >= 50, $"only {rounds} rounds ran");
        Assert.True(vmaps > 0 && refused > 0, $"{vmaps} vmaps, {refused} refused");
    }

    private static void Round(int round, ref long vmaps, ref long refused)
    {
        bool validator = DmaBufValidation.IsEnabled;
        long bytesBefore = DmaBufMemory.BytesInUse;
        var exporter = round % 2 == 0 ? TrackingExporter.OverSystemHeap() : TrackingExporter.OverNonCoherent();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(4));
        int fd = buffer.Fd();
        buffer.BeginCpuAccess(DmaDataDirection.Bidirectional);
        var failures = new ConcurrentQueue<Exception>();
        var handed = new ConcurrentQueue<DmaBufVmap>();
        using var start = new Barrier(4);
        long mapped = 0, refusedHere = 0;
        bool stop = false;

        // Refusals a racing call may meet: the release (ObjectDisposedException), the other thread's vunmap of the same
        // vmap (ObjectDisposedException, or DMA0012), and with the validator on the access ended before the put (DMA0007).
        void Guard(Action body)
        {
            try
            {
                body();
            }
            catch (ObjectDisposedException)
            {
                Interlocked.Increment(ref refusedHere);
            }
            catch (DmaBufUsageException e) when (validator && e.RuleId is "DMA0012" or "DMA0007")
            {
                Interlocked.Increment(ref refusedHere);
            }
            catch (Exception e)
            {
                failures.Enqueue(e);
            }
        }

        void Mapper()
        {
            start.SignalAndWait();
            while (!Volatile.Read(ref stop) && !buffer.IsReleased)
            {
                Guard(() =>
                {
                    DmaBufVmap map = buffer.Vmap();
                    handed.Enqueue(map);
                    Guard(() =>
                    {
                        Span<byte> span = map.GetSpan(PageSize - 8, 16);
                        span.Fill((byte)round);
                        Interlocked.Increment(ref mapped);
                    });
                    buffer.Vunmap(map);
                });
            }
        }

        // Vunmaps the vmaps the mappers hand over, racing their own vunmap of the same vmap.
        void Thief()
        {
            start.SignalAndWait();
            while (!Volatile.Read(ref stop) || !handed.IsEmpty)
            {
                if (handed.TryDequeue(out DmaBufVmap map))
                {
                    Guard(() => buffer.Vunmap(map));
                }
            }
        }

        var threads = new[] { new Thread(Mapper), new Thread(Mapper), new Thread(Thief) };
        foreach (Thread thread in threads)
        {
            thread.Start();
        }

        start.SignalAndWait();
        Thread.SpinWait(round % 7 * 500);
        if (validator)
        {
            // The put is refused while vmapped (DMA0012) or accessed (DMA0001); keep trying until the mappers lose.
            buffer.EndCpuAccess(DmaDataDirection.Bidirectional);
            buffer.Put();
            while (true)
            {
                try
                {
                    DmaBuffer.CloseFd(fd);
                    break;
                }
                catch (DmaBufUsageException e) when (e.RuleId == "DMA0012")
                {
                    Interlocked.Increment(ref refusedHere);
                    if (refusedHere > 64)
                    {
                        Volatile.Write(ref stop, true);
                    }
                }
            }
        }
        else if (round % 4 < 2)
        {
            DmaBuffer.CloseFd(fd);
            buffer.Put();
        }
        else
        {
            buffer.Put();
            DmaBuffer.CloseFd(fd);
        }

        Volatile.Write(ref stop, true);
        foreach (Thread thread in threads)
        {
            thread.Join();
        }

        Assert.True(failures.IsEmpty, $"round {round}: {string.Join("\n", failures)}");
        Assert.True(buffer.IsReleased);
        Assert.Equal(0, buffer.VmapCount);
        Assert.Equal(1, exporter.ReleaseCalls);
        Assert.Equal(exporter.VmapCalls, exporter.VunmapCalls);
        Assert.Equal(bytesBefore, DmaBufMemory.BytesInUse);
        vmaps += mapped;
        refused += refusedHere;
    }
}
