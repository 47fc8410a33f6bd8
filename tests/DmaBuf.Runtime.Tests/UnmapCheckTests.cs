// The checks of Kunmap and KunmapAtomic, with the validator off and on: a page number past the end,
// a page number or kind that is not the mapping's, a second unmap of the same mapping, and two threads unmapping one
// mapping at once are refused and change nothing; only one unmap ever reaches the exporter.
using System;
using System.Threading;
using static DmaBuf.Runtime.Tests.TestSupport;

namespace DmaBuf.Runtime.Tests;

public class UnmapCheckTests
{
    [Theory]
    [MemberData(nameof(ValidatorModes.OffAndOn), MemberType = typeof(ValidatorModes))]
    public void AWrongUnmapIsRefusedAndChangesNothing(bool validator) =>
        ChildProcess.Run<UnmapCheckTests>(nameof(WrongUnmaps), validator);

    [Theory]
    [MemberData(nameof(ValidatorModes.OffAndOn), MemberType = typeof(ValidatorModes))]
    public void OfTwoThreadsUnmappingOneMappingAtOnceExactlyOneReachesTheExporter(bool validator) =>
        ChildProcess.Run<UnmapCheckTests>(nameof(RacingUnmaps), validator);

    [Theory]
    [MemberData(nameof(ValidatorModes.OffAndOn), MemberType = typeof(ValidatorModes))]
    public void HundredsOfMappingsHeldAtOnceEachStayTheirOwn(bool validator) =>
        ChildProcess.Run<UnmapCheckTests>(nameof(ManyMappings), validator);

    /// <summary>More mappings than one chunk of slots holds, unmapped in an order of their own and mapped again.</summary>
    internal static void ManyMappings()
    {
        const int Count = 300;
        DmaBuffer buffer = DmaBuffer.Export(new SystemHeapExporter(), Pages(Count));
        buffer.BeginCpuAccess(0, buffer.Size, DmaDataDirection.Bidirectional);
        var pages = new DmaBufPage[Count];
        for (int round = 0; round < 3; round++)
        {
            for (int p = 0; p < Count; p++)
            {
                pages[p] = buffer.Kmap(p);
                pages[p].Span[0] = (byte)(p + round);
            }

            Assert.Equal(Count, buffer.MappedPageCount);
            for (int p = 0; p < Count; p += 2)
            {
                buffer.Kunmap(p, pages[p]);
            }

            for (int p = 0; p < Count; p++)
            {
                if (p % 2 == 0)
                {
                    int index = p;
                    Assert.Throws<ObjectDisposedException>(() => pages[index].Span[0]);
                }
                else
                {
                    Assert.Equal((byte)(p + round), pages[p].Span[0]);
                }
            }

            for (int p = Count - 1; p >= 1; p -= 2)
            {
                buffer.Kunmap(p, pages[p]);
            }

            Assert.Equal(0, buffer.MappedPageCount);
        }

        buffer.EndCpuAccess(0, buffer.Size, DmaDataDirection.Bidirectional);
        buffer.Put();
    }

    private static void Unmap(DmaBuffer buffer, long pageNumber, DmaBufPage page, bool atomic)
    {
        if (atomic)
        {
            buffer.KunmapAtomic(pageNumber, page);
        }
        else
        {
            buffer.Kunmap(pageNumber, page);
        }
    }

    /// <summary>The refusal of a mismatch: DMA0003 with the validator on, an argument error with it off.</summary>
    private static void AssertMismatch(Action call, string parameter)
    {
        if (DmaBufValidation.IsEnabled)
        {
            Assert.Equal("DMA0003", Assert.Throws<DmaBufUsageException>(call).RuleId);
        }
        else
        {
            Assert.Equal(parameter, Assert.Throws<ArgumentException>(call).ParamName);
        }
    }

    /// <summary>The refusal of a mapping that is already unmapped: DMA0003 with the validator on, ObjectDisposedException with it off.</summary>
    private static void AssertAlreadyUnmapped(Action call)
    {
        if (DmaBufValidation.IsEnabled)
        {
            Assert.Equal("DMA0003", Assert.Throws<DmaBufUsageException>(call).RuleId);
        }
        else
        {
            Assert.Throws<ObjectDisposedException>(call);
        }
    }

    internal static void WrongUnmaps()
    {
        foreach (bool atomic in new[] { false, true })
        {
            var exporter = TrackingExporter.OverSystemHeap();
            DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(3));
            buffer.BeginCpuAccess(0, Pages(3), DmaDataDirection.Bidirectional);
            DmaBufPage page = atomic ? buffer.KmapAtomic(1) : buffer.Kmap(1);
            BufferState before = BufferState.Of(buffer);

            Assert.Equal("pageNumber", Assert.Throws<ArgumentOutOfRangeException>(() => Unmap(buffer, 3, page, atomic)).ParamName);
            Assert.Equal("pageNumber", Assert.Throws<ArgumentOutOfRangeException>(() => Unmap(buffer, -1, page, atomic)).ParamName);
            Assert.Equal("pageNumber", Assert.Throws<ArgumentOutOfRangeException>(() => Unmap(buffer, long.MaxValue, page, atomic)).ParamName);
            AssertMismatch(() => Unmap(buffer, 2, page, atomic), "pageNumber");
            AssertMismatch(() => Unmap(buffer, 1, page, !atomic), "page");

            before.AssertUnchanged();
            Assert.Equal(0, exporter.KunmapCalls + exporter.KunmapAtomicCalls);
            Assert.Equal(1, page.Span.Length / PageSize);

            Unmap(buffer, 1, page, atomic);
            BufferState after = BufferState.Of(buffer);
            Assert.Equal(0, buffer.MappedPageCount);
            AssertAlreadyUnmapped(() => Unmap(buffer, 1, page, atomic));
            AssertAlreadyUnmapped(page.Dispose);

            after.AssertUnchanged();
            Assert.Equal(0, buffer.MappedPageCount);
            Assert.Equal(1, exporter.KunmapCalls + exporter.KunmapAtomicCalls);
            buffer.EndCpuAccess(0, Pages(3), DmaDataDirection.Bidirectional);
            buffer.Put();
        }
    }

    internal static void RacingUnmaps()
    {
        foreach (bool atomic in new[] { false, true })
        {
            // The exporter's unmaps take a while, so that the two unmaps overlap.
            var exporter = TrackingExporter.OverSystemHeap();
            exporter.OnKunmap = exporter.OnKunmapAtomic = _ => Thread.SpinWait(20_000);
            DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(1));
            buffer.BeginCpuAccess(0, Pages(1), DmaDataDirection.Bidirectional);
            using var start = new Barrier(2);
            const int Rounds = 2000;
            int unmapped = 0;
            DmaBufPage page = default;
            var failures = new System.Collections.Concurrent.ConcurrentQueue<Exception>();

            // Atomic mappings are made by the first racer, so its unmap is in the mapping's own thread; the second
            // racer's is on another thread, which the validator reports as DMA0005 when it wins.
            void Racer(bool mapper)
            {
                for (int round = 0; round < Rounds; round++)
                {
                    if (mapper)
                    {
                        page = atomic ? buffer.KmapAtomic(0) : buffer.Kmap(0);
                    }

                    start.SignalAndWait();
                    try
                    {
                        Unmap(buffer, 0, page, atomic);
                        Interlocked.Increment(ref unmapped);
                    }
                    catch (DmaBufUsageException e) when (DmaBufValidation.IsEnabled && (e.RuleId == "DMA0003" || (atomic && !mapper && e.RuleId == "DMA0005")))
                    {
                        if (e.RuleId == "DMA0005")
                        {
                            Interlocked.Increment(ref unmapped);
                        }
                    }
                    catch (ObjectDisposedException) when (!DmaBufValidation.IsEnabled)
                    {
                    }
                    catch (Exception e)
                    {
                        failures.Enqueue(e);
                    }

                    start.SignalAndWait();
                }
            }

            var other = new Thread(() => Racer(mapper: false));
            other.Start();
            OnOwnThread(() => Racer(mapper: true));
            other.Join();

            Assert.Empty(failures);
            Assert.Equal(Rounds, unmapped);
            Assert.Equal(Rounds, exporter.KunmapCalls + exporter.KunmapAtomicCalls);
            Assert.Equal(0, buffer.MappedPageCount);
            buffer.EndCpuAccess(0, Pages(1), DmaDataDirection.Bidirectional);
            buffer.Put();
        }
    }
}
