// The release's end of the mappings left (MappingSlots.EndAll) against an unmap that wins a live slot in the instant
// between the release's read of it and its compare-and-swap, sees the release, and puts the mapping back: the release
// must still end that mapping, so that no page stays counted (or keeps its span) after the last put.
using System;
using System.Diagnostics;
using System.Threading;

namespace DmaBuf.Runtime.Tests;

public class ReleaseEndsMappingsTests
{
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Each round publishes one mapping; another thread keeps beginning its unmap and putting it back (as an unmap that
    /// began just before the last put does once, here over and over to make the instant likely) while the release ends
    /// the mappings left. Afterwards the slot must be free.
    /// </summary>
    [Fact]
    public void TheReleaseEndsAMappingAnUnmapRacingItPutsBack()
    {
        var clock = Stopwatch.StartNew();
        using var toggler = new Toggler();
        int rounds = 0;
        while (clock.Elapsed < Duration && rounds < 200_000)
        {
            var slots = new MappingSlots();
            long[] chunk = slots.Claim(out int slot, out long free);
            long live = MappingSlots.Publish(chunk, slot, free);
            Round round = toggler.Start(chunk, slot, live);
            Thread.SpinWait(rounds % 13 * 8);
            slots.EndAll();
            toggler.Stop(round);

            Assert.True(
                MappingSlots.ValueOf(chunk, slot) != live && slots.CountMapped() == 0,
                $"round {rounds}: the release left the mapping live (slot value {MappingSlots.ValueOf(chunk, slot)}, live value {live}) after it lost its compare-and-swap to an unmap that put the mapping back");
            rounds++;
        }

        Assert.True(rounds >= 10, $"only {rounds} rounds ran");
    }

    private sealed class Round(long[] chunk, int slot, long live)
    {
        public readonly long[] Chunk = chunk;
        public readonly int Slot = slot;
        public readonly long Live = live;
        public volatile bool Started;
        public volatile bool StopRequested;
        public volatile bool Done;
    }

    /// <summary>The thread that begins and cancels unmaps of the current round's mapping, for as long as it is live.</summary>
    private sealed class Toggler : IDisposable
    {
        private readonly Thread _thread;
        private volatile Round? _current;
        private volatile bool _exit;

        public Toggler()
        {
            _thread = new Thread(Run) { IsBackground = true };
            _thread.Start();
        }

        public Round Start(long[] chunk, int slot, long live)
        {
            var round = new Round(chunk, slot, live);
            _current = round;
            var wait = default(SpinWait);
            while (!round.Started)
            {
                wait.SpinOnce(sleep1Threshold: -1);
            }

            return round;
        }

        public void Stop(Round round)
        {
            round.StopRequested = true;
            var wait = default(SpinWait);
            while (!round.Done)
            {
                wait.SpinOnce(sleep1Threshold: -1);
            }
        }

        public void Dispose()
        {
            _exit = true;
            _thread.Join();
        }

        private void Run()
        {
            Round? last = null;
            var idle = default(SpinWait);
            while (!_exit)
            {
                Round? round = _current;
                if (round is null || ReferenceEquals(round, last))
                {
                    idle.SpinOnce(sleep1Threshold: -1);
                    continue;
                }

                idle = default;
                last = round;
                round.Started = true;
                int spins = 0;
                while (!round.StopRequested && MappingSlots.TryBeginUnmap(round.Chunk, round.Slot, round.Live))
                {
                    MappingSlots.CancelUnmap(round.Chunk, round.Slot, round.Live);

                    // Live for a moment of varying length, so that the release sees it live and races the next begin.
                    Thread.SpinWait(++spins & 7);
                }

                round.Done = true;
            }
        }
    }
}
