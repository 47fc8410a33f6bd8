// The runtime validator: each rule it checks (DMA0001 to DMA0009, DMA0011) throws with the rule's id at the call that
// breaks it, and the failed call changes nothing; correct code, and blocking on another thread, never trip it.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using static DmaBuf.Runtime.Tests.TestSupport;

namespace DmaBuf.Runtime.Tests;

/// <summary>
/// The runtime validator: every rule it checks throws <see cref="DmaBufUsageException"/> with the rule's id at the
/// moment the rule is broken, the failed call changes nothing, and correct code never trips it.
/// </summary>
public class ValidatorTests
{
    private static DmaBufUsageException AssertRule(string ruleId, Action call)
    {
        var e = Assert.Throws<DmaBufUsageException>(call);
        Assert.Equal(ruleId, e.RuleId);
        return e;
    }

    private static DmaBufUsageException AssertRule(string ruleId, Func<object?> call) => AssertRule(ruleId, () => { call(); });

    /// <summary>Undoes whatever a test left: ends begun accesses, unmaps and detaches, then puts the last reference.</summary>
    private static void TearDown(DmaBuffer buffer)
    {
        Quiesce(buffer);
        buffer.Put();
        Assert.True(buffer.IsReleased);
    }

    /// <summary>Ends every begun access and unmaps and detaches every attachment.</summary>
    private static void Quiesce(DmaBuffer buffer)
    {
        foreach (CpuAccessRange range in buffer.BegunCpuAccesses)
        {
            if (range.IsWholeBuffer)
            {
                buffer.EndCpuAccess(range.Direction);
            }
            else
            {
                buffer.EndCpuAccess(range.Start, range.Length, range.Direction);
            }
        }

        foreach (DmaBufAttachment attachment in buffer.Attachments)
        {
            foreach (ScatterGatherTable table in attachment.MappedTables.ToArray())
            {
                buffer.UnmapAttachment(attachment, table);
            }

            buffer.Detach(attachment);
        }
    }

    [Fact]
    public void TheUsageExceptionNamesItsRule()
    {
        var e = new DmaBufUsageException("DMA0004", "third atomic mapping");

        Assert.IsAssignableFrom<InvalidOperationException>(e);
        Assert.Equal("DMA0004", e.RuleId);
        Assert.StartsWith("DMA0004: ", e.Message, StringComparison.Ordinal);
        Assert.Contains("third atomic mapping", e.Message, StringComparison.Ordinal);
        Assert.StartsWith("https://", e.HelpLink, StringComparison.Ordinal);
        Assert.EndsWith("/docs/rules/DMA0004.md", e.HelpLink, StringComparison.Ordinal);
        Assert.Throws<ArgumentNullException>("ruleId", () => new DmaBufUsageException(null!, "message"));
    }

    // ---- DMA0001: CPU access still begun when the last reference is put ----

    [Fact]
    public void PuttingTheLastReferenceWithCpuAccessBegunIsDma0001()
    {
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));
        buffer.BeginCpuAccess(0, PageSize, DmaDataDirection.FromDevice);
        BufferState before = BufferState.Of(buffer);

        DmaBufUsageException e = AssertRule("DMA0001", buffer.Put);

        Assert.Contains(buffer.ToString(), e.Message, StringComparison.Ordinal);
        before.AssertUnchanged();
        Assert.Equal(0, exporter.ReleaseCalls);
        buffer.EndCpuAccess(0, PageSize, DmaDataDirection.FromDevice);
        buffer.Put();
        Assert.Equal(1, exporter.ReleaseCalls);
    }

    [Fact]
    public void AScopeNotDisposedBeforeTheLastPutIsDma0001()
    {
        DmaBuffer buffer = DmaBuffer.Export(new SystemHeapExporter(), Pages(2));
        CpuAccessScope scope = buffer.CpuAccess(0, Pages(2), DmaDataDirection.ToDevice);
        BufferState before = BufferState.Of(buffer);

        AssertRule("DMA0001", buffer.Put);

        before.AssertUnchanged();
        scope.Dispose();
        buffer.Put();
        Assert.True(buffer.IsReleased);
    }

    [Fact]
    public void ClosingTheDescriptorThatHoldsTheLastReferenceWithCpuAccessBegunIsDma0001()
    {
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));
        int fd = buffer.Fd();
        buffer.Put();
        buffer.BeginCpuAccess(0, PageSize, DmaDataDirection.Bidirectional);
        BufferState before = BufferState.Of(buffer);

        AssertRule("DMA0001", () => DmaBuffer.CloseFd(fd));

        before.AssertUnchanged();
        DmaBuffer again = DmaBuffer.Get(fd);
        Assert.Same(buffer, again);
        again.Put();
        buffer.EndCpuAccess(0, PageSize, DmaDataDirection.Bidirectional);
        DmaBuffer.CloseFd(fd);
        Assert.Equal(1, exporter.ReleaseCalls);
    }

    [Fact]
    public void PuttingAReferenceThatIsNotTheLastWithCpuAccessBegunIsFine()
    {
        DmaBuffer buffer = DmaBuffer.Export(new SystemHeapExporter(), Pages(2));
        int fd = buffer.Fd();
        buffer.BeginCpuAccess(0, PageSize, DmaDataDirection.FromDevice);

        buffer.Put();

        Assert.Equal(1, buffer.ReferenceCount);
        DmaBuffer imported = DmaBuffer.Get(fd);
        imported.EndCpuAccess(0, PageSize, DmaDataDirection.FromDevice);
        imported.Put();
        DmaBuffer.CloseFd(fd);
        Assert.True(buffer.IsReleased);
    }

    // ---- DMA0002: an end with nothing begun, or with another range or direction ----

    public static TheoryData<long, long, DmaDataDirection> MismatchedEnds => new()
    {
        { 0, Pages(2), DmaDataDirection.FromDevice },
        { PageSize, PageSize, DmaDataDirection.FromDevice },
        { PageSize, Pages(2) + 1, DmaDataDirection.FromDevice },
        { PageSize + 1, Pages(2), DmaDataDirection.FromDevice },
        { PageSize, Pages(2), DmaDataDirection.ToDevice },
        { PageSize, Pages(2), DmaDataDirection.Bidirectional },
        { PageSize, Pages(2), DmaDataDirection.None },
    };

    [Theory]
    [MemberData(nameof(MismatchedEnds))]
    public void AnEndThatMatchesNoBegunAccessIsDma0002(long start, long length, DmaDataDirection direction)
    {
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(4));
        buffer.BeginCpuAccess(PageSize, Pages(2), DmaDataDirection.FromDevice);
        BufferState before = BufferState.Of(buffer);

        AssertRule("DMA0002", () => buffer.EndCpuAccess(start, length, direction));

        before.AssertUnchanged();
        Assert.Equal(0, exporter.EndCalls);
        buffer.EndCpuAccess(PageSize, Pages(2), DmaDataDirection.FromDevice);
        buffer.Put();
    }

    [Fact]
    public void AnEndWithNothingBegunIsDma0002()
    {
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));
        BufferState before = BufferState.Of(buffer);

        DmaBufUsageException e = AssertRule("DMA0002", () => buffer.EndCpuAccess(0, PageSize, DmaDataDirection.ToDevice));

        Assert.Contains("no CPU access is begun", e.Message, StringComparison.Ordinal);
        before.AssertUnchanged();
        Assert.Equal(0, exporter.EndCalls);
        buffer.Put();
    }

    [Fact]
    public void EndingTheSameAccessTwiceIsDma0002()
    {
        DmaBuffer buffer = DmaBuffer.Export(new SystemHeapExporter(), Pages(2));
        buffer.BeginCpuAccess(0, PageSize, DmaDataDirection.ToDevice);
        buffer.EndCpuAccess(0, PageSize, DmaDataDirection.ToDevice);

        AssertRule("DMA0002", () => buffer.EndCpuAccess(0, PageSize, DmaDataDirection.ToDevice));

        Assert.Empty(buffer.BegunCpuAccesses);
        buffer.Put();
    }

    [Fact]
    public void DisposingAScopeWhoseAccessWasEndedByHandIsDma0002AndLeavesTheScopeOpen()
    {
        DmaBuffer buffer = DmaBuffer.Export(new SystemHeapExporter(), Pages(2));
        CpuAccessScope scope = buffer.CpuAccess(0, PageSize, DmaDataDirection.ToDevice);
        buffer.EndCpuAccess(0, PageSize, DmaDataDirection.ToDevice);

        AssertRule("DMA0002", scope.Dispose);

        Assert.False(scope.IsEnded);
        buffer.BeginCpuAccess(0, PageSize, DmaDataDirection.ToDevice);
        scope.Dispose();
        Assert.True(scope.IsEnded);
        Assert.Empty(buffer.BegunCpuAccesses);
        buffer.Put();
    }

    // ---- DMA0003: a page unmapped with the wrong call, page number or mapping, or still mapped at the last put ----

    [Fact]
    public void UnmappingAnAtomicMappingWithKunmapIsDma0003()
    {
        OnOwnThread(() =>
        {
            var exporter = TrackingExporter.OverSystemHeap();
            DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));
            buffer.BeginCpuAccess(0, Pages(2), DmaDataDirection.ToDevice);
            DmaBufPage page = buffer.KmapAtomic(1);
            BufferState before = BufferState.Of(buffer);

            DmaBufUsageException e = AssertRule("DMA0003", () => buffer.Kunmap(1, page));

            Assert.Contains(nameof(DmaBuffer.KunmapAtomic), e.Message, StringComparison.Ordinal);
            before.AssertUnchanged();
            Assert.Equal(0, exporter.KunmapCalls);
            buffer.KunmapAtomic(1, page);
            TearDown(buffer);
        });
    }

    [Fact]
    public void UnmappingAPlainMappingWithKunmapAtomicIsDma0003()
    {
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));
        buffer.BeginCpuAccess(0, Pages(2), DmaDataDirection.ToDevice);
        DmaBufPage page = buffer.Kmap(1);
        BufferState before = BufferState.Of(buffer);

        AssertRule("DMA0003", () => buffer.KunmapAtomic(1, page));

        before.AssertUnchanged();
        Assert.Equal(0, exporter.KunmapAtomicCalls);
        buffer.Kunmap(1, page);
        TearDown(buffer);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void UnmappingWithAnotherPageNumberIsDma0003(bool atomic)
    {
        OnOwnThread(() =>
        {
            DmaBuffer buffer = DmaBuffer.Export(new SystemHeapExporter(), Pages(3));
            buffer.BeginCpuAccess(0, Pages(3), DmaDataDirection.ToDevice);
            DmaBufPage page = atomic ? buffer.KmapAtomic(1) : buffer.Kmap(1);
            BufferState before = BufferState.Of(buffer);

            AssertRule("DMA0003", () =>
            {
                if (atomic)
                {
                    buffer.KunmapAtomic(2, page);
                }
                else
                {
                    buffer.Kunmap(2, page);
                }
            });

            before.AssertUnchanged();
            page.Dispose();
            TearDown(buffer);
        });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void UnmappingAMappingTwiceIsDma0003(bool atomic)
    {
        OnOwnThread(() =>
        {
            DmaBuffer buffer = DmaBuffer.Export(new SystemHeapExporter(), Pages(2));
            buffer.BeginCpuAccess(0, Pages(2), DmaDataDirection.ToDevice);
            DmaBufPage stale = atomic ? buffer.KmapAtomic(0) : buffer.Kmap(0);
            stale.Dispose();
            DmaBufPage live = atomic ? buffer.KmapAtomic(0) : buffer.Kmap(0);
            BufferState before = BufferState.Of(buffer);

            AssertRule("DMA0003", stale.Dispose);
            AssertRule("DMA0003", () =>
            {
                if (atomic)
                {
                    buffer.KunmapAtomic(0, stale);
                }
                else
                {
                    buffer.Kunmap(0, stale);
                }
            });

            before.AssertUnchanged();
            live.Dispose();
            Assert.Equal(0, buffer.MappedPageCount);
            TearDown(buffer);
        });
    }

    [Fact]
    public void PuttingTheLastReferenceWithAPageMappedIsDma0003()
    {
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));
        buffer.BeginCpuAccess(0, Pages(2), DmaDataDirection.ToDevice);
        DmaBufPage page = buffer.Kmap(1);
        buffer.EndCpuAccess(0, Pages(2), DmaDataDirection.ToDevice);
        BufferState before = BufferState.Of(buffer);

        DmaBufUsageException e = AssertRule("DMA0003", buffer.Put);

        Assert.Contains("page 1", e.Message, StringComparison.Ordinal);
        before.AssertUnchanged();
        Assert.Equal(0, exporter.ReleaseCalls);
        buffer.Kunmap(1, page);
        buffer.Put();
        Assert.Equal(1, exporter.ReleaseCalls);
    }

    // ---- DMA0004: more than two atomic mappings held in one thread ----

    [Fact]
    public void AThirdAtomicMappingInOneThreadIsDma0004()
    {
        OnOwnThread(() =>
        {
            var exporter = TrackingExporter.OverSystemHeap();
            DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(3));
            buffer.BeginCpuAccess(0, Pages(3), DmaDataDirection.ToDevice);
            DmaBufPage first = buffer.KmapAtomic(0);
            DmaBufPage second = buffer.KmapAtomic(1);
            BufferState before = BufferState.Of(buffer);

            AssertRule("DMA0004", () => buffer.KmapAtomic(2));

            before.AssertUnchanged();
            Assert.Equal(2, exporter.KmapAtomicCalls);

            // Releasing one slot makes room for the next.
            buffer.KunmapAtomic(0, first);
            DmaBufPage third = buffer.KmapAtomic(2);
            Assert.Equal(2, DmaBufValidation.AtomicMappingsHeldByCurrentThread);
            buffer.KunmapAtomic(2, third);
            buffer.KunmapAtomic(1, second);
            TearDown(buffer);
        });
    }

    [Fact]
    public void TheAtomicLimitCountsMappingsOfEveryBufferInTheThread()
    {
        OnOwnThread(() =>
        {
            DmaBuffer a = DmaBuffer.Export(new SystemHeapExporter(), Pages(2));
            DmaBuffer b = DmaBuffer.Export(new NonCoherentExporter(), Pages(2));
            a.BeginCpuAccess(0, Pages(2), DmaDataDirection.ToDevice);
            b.BeginCpuAccess(0, Pages(2), DmaDataDirection.ToDevice);
            DmaBufPage a0 = a.KmapAtomic(0);
            DmaBufPage a1 = a.KmapAtomic(1);
            BufferState beforeB = BufferState.Of(b);

            AssertRule("DMA0004", () => b.KmapAtomic(0));

            beforeB.AssertUnchanged();
            a.KunmapAtomic(1, a1);
            a.KunmapAtomic(0, a0);
            TearDown(a);
            TearDown(b);
        });
    }

    [Fact]
    public void EachThreadHasItsOwnTwoAtomicSlots()
    {
        OnOwnThread(() =>
        {
            DmaBuffer buffer = DmaBuffer.Export(new SystemHeapExporter(), Pages(4));
            buffer.BeginCpuAccess(0, Pages(4), DmaDataDirection.ToDevice);
            DmaBufPage p0 = buffer.KmapAtomic(0);
            DmaBufPage p1 = buffer.KmapAtomic(1);

            OnOwnThread(() =>
            {
                DmaBufPage p2 = buffer.KmapAtomic(2);
                DmaBufPage p3 = buffer.KmapAtomic(3);
                Assert.Equal(2, DmaBufValidation.AtomicMappingsHeldByCurrentThread);
                Assert.Equal(4, buffer.MappedPageCount);
                buffer.KunmapAtomic(3, p3);
                buffer.KunmapAtomic(2, p2);
            });

            Assert.Equal(2, DmaBufValidation.AtomicMappingsHeldByCurrentThread);
            buffer.KunmapAtomic(1, p1);
            buffer.KunmapAtomic(0, p0);
            TearDown(buffer);
        });
    }

    // ---- DMA0005: a call that may block while an atomic mapping is held ----

    /// <summary>Every runtime call that may block, by the name of the method that carries [MightSleep].</summary>
    private static readonly string[] BlockingCallNames =
    {
        "DmaBuffer.Export",
        "DmaBuffer.Fd",
        "DmaBuffer.Get",
        "DmaBuffer.CloseFd",
        "DmaBuffer.Put",
        "DmaBuffer.Attach",
        "DmaBuffer.Detach",
        "DmaBuffer.MapAttachment",
        "DmaBuffer.UnmapAttachment",
        "DmaBuffer.BeginCpuAccess",
        "DmaBuffer.EndCpuAccess",
        "DmaBuffer.CpuAccess",
        "DmaBuffer.Kmap",
        "CpuAccessScope.Dispose",
        "DmaBuffer.Vmap",
        "DmaBuffer.Vunmap",
        "DmaBufVmap.Dispose",
        "DmaBufValidation.MightSleep",
    };

    public static TheoryData<string> BlockingCalls()
    {
        var data = new TheoryData<string>();
        foreach (string name in BlockingCallNames)
        {
            data.Add(name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(BlockingCalls))]
    public void ABlockingCallWhileAnAtomicMappingIsHeldIsDma0005(string call)
    {
        OnOwnThread(() =>
        {
            var exporter = TrackingExporter.OverSystemHeap();
            DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(4));
            int fd = buffer.Fd();
            DmaBufAttachment mapped = buffer.Attach(new Device("mapped"));
            ScatterGatherTable table = buffer.MapAttachment(mapped, DmaDataDirection.ToDevice);
            DmaBufAttachment idle = buffer.Attach(new Device("idle"));
            CpuAccessScope scope = buffer.CpuAccess(0, Pages(4), DmaDataDirection.Bidirectional);
            buffer.BeginCpuAccess(0, PageSize, DmaDataDirection.ToDevice);
            var freshExporter = new SystemHeapExporter();
            DmaBufVmap vmapped = buffer.Vmap();
            bool fdClosed = false;
            Func<object?> action = call switch
            {
                "DmaBuffer.Export" => () => DmaBuffer.Export(freshExporter, PageSize),
                "DmaBuffer.Fd" => () => buffer.Fd(),
                "DmaBuffer.Get" => () => DmaBuffer.Get(fd),
                "DmaBuffer.CloseFd" => () => { DmaBuffer.CloseFd(fd); fdClosed = true; return null; },
                "DmaBuffer.Put" => () => { buffer.Put(); return null; },
                "DmaBuffer.Attach" => () => buffer.Attach(new Device("late")),
                "DmaBuffer.Detach" => () => { buffer.Detach(idle); return null; },
                "DmaBuffer.MapAttachment" => () => buffer.MapAttachment(idle, DmaDataDirection.FromDevice),
                "DmaBuffer.UnmapAttachment" => () => { buffer.UnmapAttachment(mapped, table); return null; },
                "DmaBuffer.BeginCpuAccess" => () => { buffer.BeginCpuAccess(PageSize, PageSize, DmaDataDirection.FromDevice); return null; },
                "DmaBuffer.EndCpuAccess" => () => { buffer.EndCpuAccess(0, PageSize, DmaDataDirection.ToDevice); return null; },
                "DmaBuffer.CpuAccess" => () => buffer.CpuAccess(PageSize, PageSize, DmaDataDirection.FromDevice),
                "DmaBuffer.Kmap" => () => buffer.Kmap(1),
                "CpuAccessScope.Dispose" => () => { scope.Dispose(); return null; },
                "DmaBuffer.Vmap" => () => buffer.Vmap(),
                "DmaBuffer.Vunmap" => () => { buffer.Vunmap(vmapped); return null; },
                "DmaBufVmap.Dispose" => () => { vmapped.Dispose(); return null; },
                "DmaBufValidation.MightSleep" => () => { DmaBufValidation.MightSleep(); return null; },
                _ => throw new ArgumentOutOfRangeException(nameof(call), call, null),
            };
            DmaBufPage atomic = buffer.KmapAtomic(3);
            BufferState before = BufferState.Of(buffer);

            DmaBufUsageException e = AssertRule("DMA0005", action);

            Assert.Contains("page 3", e.Message, StringComparison.Ordinal);
            before.AssertUnchanged();
            Assert.Null(freshExporter.Buffer);
            Assert.False(scope.IsEnded);
            Assert.True(table.IsMapped);
            Assert.False(fdClosed);

            // The same call is fine once the atomic mapping is gone.
            buffer.KunmapAtomic(3, atomic);
            object? result = action();
            switch (result)
            {
                case DmaBuffer other:
                    other.Put();
                    break;
                case int extraFd:
                    DmaBuffer.CloseFd(extraFd);
                    break;
                case DmaBufPage page:
                    page.Dispose();
                    break;
                case CpuAccessScope extraScope:
                    extraScope.Dispose();
                    break;
                case DmaBufVmap extraVmap:
                    extraVmap.Dispose();
                    break;
            }

            if (vmapped.IsMapped)
            {
                buffer.Vunmap(vmapped);
            }

            if (!scope.IsEnded)
            {
                scope.Dispose();
            }

            Quiesce(buffer);
            if (!fdClosed)
            {
                DmaBuffer.CloseFd(fd);
            }

            if (call != "DmaBuffer.Put")
            {
                buffer.Put();
            }

            Assert.True(buffer.IsReleased);
            Assert.Equal(1, exporter.ReleaseCalls);
            Assert.Equal(0, exporter.AllocatedBytes);
        });
    }

    [Fact]
    public void EveryRuntimeMethodThatMaySleepIsCoveredByTheBlockingCallTheory()
    {
        Assembly runtime = typeof(DmaBuffer).Assembly;
        string[] annotated = runtime.GetExportedTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(m => m.GetCustomAttribute<MightSleepAttribute>() is not null)
            .Select(m => $"{m.DeclaringType!.Name}.{m.Name}")
            .OrderBy(n => n, StringComparer.Ordinal)
            .ToArray();
        Assert.NotEmpty(annotated);
        Assert.All(annotated, name => Assert.Contains(name, BlockingCallNames));
    }

    [Fact]
    public void EveryDmaBufferMethodButTheNonBlockingOnesCarriesMightSleep()
    {
        var nonBlocking = new HashSet<string> { nameof(DmaBuffer.KmapAtomic), nameof(DmaBuffer.KunmapAtomic), nameof(DmaBuffer.Kunmap), nameof(DmaBuffer.ToString) };
        MethodInfo[] methods = typeof(DmaBuffer).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
            .Where(m => !m.IsSpecialName)
            .ToArray();

        Assert.All(methods, m => Assert.Equal(!nonBlocking.Contains(m.Name), m.GetCustomAttribute<MightSleepAttribute>() is not null));
        Assert.NotNull(typeof(CpuAccessScope).GetMethod(nameof(CpuAccessScope.Dispose))!.GetCustomAttribute<MightSleepAttribute>());
    }

    [Fact]
    public void BlockingOnAnotherThreadWhileThisOneHoldsAnAtomicMappingIsFine()
    {
        OnOwnThread(() =>
        {
            DmaBuffer buffer = DmaBuffer.Export(new SystemHeapExporter(), Pages(2));
            buffer.BeginCpuAccess(0, Pages(2), DmaDataDirection.ToDevice);
            DmaBufPage atomic = buffer.KmapAtomic(0);

            OnOwnThread(() =>
            {
                DmaBufValidation.MightSleep();
                buffer.BeginCpuAccess(PageSize, PageSize, DmaDataDirection.FromDevice);
                buffer.Kunmap(1, buffer.Kmap(1));
                buffer.EndCpuAccess(PageSize, PageSize, DmaDataDirection.FromDevice);
            });

            buffer.KunmapAtomic(0, atomic);
            TearDown(buffer);
        });
    }

    // ---- DMA0006 and DMA0007: kmap outside the begun access, or with none begun ----

    public static TheoryData<long, long, long, bool> OutsideThePageSpan()
    {
        // begun start, begun length, page, atomic
        var data = new TheoryData<long, long, long, bool>();
        foreach (bool atomic in new[] { false, true })
        {
            data.Add(PageSize, PageSize, 0, atomic);
            data.Add(PageSize, PageSize, 2, atomic);
            data.Add(PageSize - 1, 2, 2, atomic);
            data.Add(0, 1, 3, atomic);
            data.Add(Pages(3), 1, 2, atomic);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(OutsideThePageSpan))]
    public void AKmapOutsideThePageSpanOfTheBegunAccessIsDma0006(long start, long length, long page, bool atomic)
    {
        OnOwnThread(() =>
        {
            var exporter = TrackingExporter.OverSystemHeap();
            DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(4));
            buffer.BeginCpuAccess(start, length, DmaDataDirection.FromDevice);
            BufferState before = BufferState.Of(buffer);

            DmaBufUsageException e = AssertRule("DMA0006", () => atomic ? buffer.KmapAtomic(page) : buffer.Kmap(page));

            Assert.Contains($"({page})", e.Message, StringComparison.Ordinal);
            before.AssertUnchanged();
            Assert.Equal(0, exporter.KmapCalls + exporter.KmapAtomicCalls);
            TearDown(buffer);
        });
    }

    public static TheoryData<long, long, long, bool> InsideThePageSpan()
    {
        var data = new TheoryData<long, long, long, bool>();
        foreach (bool atomic in new[] { false, true })
        {
            data.Add(PageSize, PageSize, 1, atomic);
            data.Add(PageSize - 1, 2, 0, atomic);
            data.Add(PageSize - 1, 2, 1, atomic);
            data.Add(100, Pages(3), 3, atomic);
            data.Add(Pages(4) - 1, 1, 3, atomic);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(InsideThePageSpan))]
    public void AKmapOfAPartialPageAtEitherEndOfTheAccessIsAllowed(long start, long length, long page, bool atomic)
    {
        OnOwnThread(() =>
        {
            DmaBuffer buffer = DmaBuffer.Export(new SystemHeapExporter(), Pages(4));
            buffer.BeginCpuAccess(start, length, DmaDataDirection.FromDevice);

            DmaBufPage mapped = atomic ? buffer.KmapAtomic(page) : buffer.Kmap(page);

            Assert.Equal(page, mapped.PageNumber);
            mapped.Dispose();
            TearDown(buffer);
        });
    }

    [Fact]
    public void AKmapCoveredByAnyOfSeveralBegunAccessesIsAllowedAndOneBetweenThemIsNot()
    {
        DmaBuffer buffer = DmaBuffer.Export(new SystemHeapExporter(), Pages(5));
        buffer.BeginCpuAccess(0, PageSize, DmaDataDirection.ToDevice);
        buffer.BeginCpuAccess(Pages(4), PageSize, DmaDataDirection.FromDevice);

        buffer.Kmap(0).Dispose();
        buffer.Kmap(4).Dispose();
        BufferState before = BufferState.Of(buffer);
        AssertRule("DMA0006", () => buffer.Kmap(2));

        before.AssertUnchanged();
        TearDown(buffer);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AKmapWithNoCpuAccessBegunIsDma0007(bool atomic)
    {
        OnOwnThread(() =>
        {
            var exporter = TrackingExporter.OverSystemHeap();
            DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));
            BufferState before = BufferState.Of(buffer);

            AssertRule("DMA0007", () => atomic ? buffer.KmapAtomic(0) : buffer.Kmap(0));

            before.AssertUnchanged();
            Assert.Equal(0, exporter.KmapCalls + exporter.KmapAtomicCalls);
            TearDown(buffer);
        });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AKmapAfterTheAccessWasEndedIsDma0007(bool atomic)
    {
        OnOwnThread(() =>
        {
            DmaBuffer buffer = DmaBuffer.Export(new SystemHeapExporter(), Pages(2));
            using (buffer.CpuAccess(0, Pages(2), DmaDataDirection.FromDevice))
            {
                buffer.Kmap(0).Dispose();
            }

            BufferState before = BufferState.Of(buffer);
            AssertRule("DMA0007", () => atomic ? buffer.KmapAtomic(0) : buffer.Kmap(0));

            before.AssertUnchanged();
            TearDown(buffer);
        });
    }

    [Fact]
    public void AnAccessBegunOnAnotherBufferDoesNotCoverAKmap()
    {
        DmaBuffer begun = DmaBuffer.Export(new SystemHeapExporter(), Pages(2));
        DmaBuffer other = DmaBuffer.Export(new SystemHeapExporter(), Pages(2));
        begun.BeginCpuAccess(0, Pages(2), DmaDataDirection.FromDevice);
        BufferState before = BufferState.Of(other);

        AssertRule("DMA0007", () => other.Kmap(0));

        before.AssertUnchanged();
        TearDown(begun);
        TearDown(other);
    }

    // ---- DMA0008: an exporter's atomic kmap callback that may block ----

    [Fact]
    public void AnExportersKmapAtomicThatMaySleepIsDma0008()
    {
        OnOwnThread(() =>
        {
            var exporter = TrackingExporter.OverSystemHeap();
            DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));
            buffer.BeginCpuAccess(0, Pages(2), DmaDataDirection.ToDevice);
            exporter.OnKmapAtomic = _ => DmaBufValidation.MightSleep();
            BufferState before = BufferState.Of(buffer);

            AssertRule("DMA0008", () => buffer.KmapAtomic(1));

            before.AssertUnchanged();
            Assert.Equal(0, exporter.KmapAtomicCalls);

            // The callback's atomic context ended with the failed call.
            DmaBufValidation.MightSleep();
            exporter.OnKmapAtomic = null;
            buffer.KmapAtomic(1).Dispose();
            TearDown(buffer);
        });
    }

    [Fact]
    public void AnExportersKmapAtomicThatCallsABlockingRuntimeMethodIsDma0008()
    {
        OnOwnThread(() =>
        {
            var exporter = TrackingExporter.OverSystemHeap();
            DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));
            buffer.BeginCpuAccess(0, Pages(2), DmaDataDirection.ToDevice);
            exporter.OnKmapAtomic = _ => buffer.Fd();
            BufferState before = BufferState.Of(buffer);

            AssertRule("DMA0008", () => buffer.KmapAtomic(0));

            before.AssertUnchanged();
            Assert.Equal(1, buffer.ReferenceCount);
            exporter.OnKmapAtomic = null;
            TearDown(buffer);
        });
    }

    [Fact]
    public void AnExportersKunmapAtomicThatMaySleepIsDma0008AndTheMappingStaysHeld()
    {
        OnOwnThread(() =>
        {
            var exporter = TrackingExporter.OverSystemHeap();
            DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));
            buffer.BeginCpuAccess(0, Pages(2), DmaDataDirection.ToDevice);
            DmaBufPage page = buffer.KmapAtomic(1);
            exporter.OnKunmapAtomic = _ => DmaBufValidation.MightSleep();
            BufferState before = BufferState.Of(buffer);

            AssertRule("DMA0008", () => buffer.KunmapAtomic(1, page));

            before.AssertUnchanged();
            Assert.Equal(1, DmaBufValidation.AtomicMappingsHeldByCurrentThread);
            Assert.Equal(0, exporter.KunmapAtomicCalls);
            exporter.OnKunmapAtomic = null;
            buffer.KunmapAtomic(1, page);
            Assert.Equal(0, buffer.MappedPageCount);
            Assert.Equal(0, DmaBufValidation.AtomicMappingsHeldByCurrentThread);
            TearDown(buffer);
        });
    }

    [Fact]
    public void AnExportersPlainKmapMaySleep()
    {
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));
        buffer.BeginCpuAccess(0, Pages(2), DmaDataDirection.ToDevice);
        exporter.OnKmap = _ => DmaBufValidation.MightSleep();

        DmaBufPage page = buffer.Kmap(1);

        Assert.Equal(1, exporter.KmapCalls);
        buffer.Kunmap(1, page);
        TearDown(buffer);
    }

    // ---- DMA0009: attachment tables unmapped wrongly, detached while mapped, or still mapped at the last put ----

    [Fact]
    public void DetachingAnAttachmentThatIsStillMappedIsDma0009()
    {
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));
        DmaBufAttachment attachment = buffer.Attach(new Device("dev"));
        ScatterGatherTable table = buffer.MapAttachment(attachment, DmaDataDirection.ToDevice);
        BufferState before = BufferState.Of(buffer);

        AssertRule("DMA0009", () => buffer.Detach(attachment));

        before.AssertUnchanged();
        Assert.True(table.IsMapped);
        Assert.True(attachment.IsAttached);
        Assert.Equal(0, exporter.DetachCalls);
        buffer.UnmapAttachment(attachment, table);
        buffer.Detach(attachment);
        TearDown(buffer);
    }

    [Fact]
    public void UnmappingWithAnotherAttachmentsTableIsDma0009()
    {
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));
        DmaBufAttachment a = buffer.Attach(new Device("a"));
        DmaBufAttachment b = buffer.Attach(new Device("b"));
        ScatterGatherTable aTable = buffer.MapAttachment(a, DmaDataDirection.ToDevice);
        ScatterGatherTable bTable = buffer.MapAttachment(b, DmaDataDirection.ToDevice);
        BufferState before = BufferState.Of(buffer);

        DmaBufUsageException e = AssertRule("DMA0009", () => buffer.UnmapAttachment(a, bTable));

        Assert.Contains("another attachment", e.Message, StringComparison.Ordinal);
        before.AssertUnchanged();
        Assert.True(aTable.IsMapped);
        Assert.True(bTable.IsMapped);
        Assert.Equal(0, exporter.UnmapCalls);
        TearDown(buffer);
    }

    [Fact]
    public void UnmappingATableTwiceIsDma0009()
    {
        DmaBuffer buffer = DmaBuffer.Export(new SystemHeapExporter(), Pages(2));
        DmaBufAttachment attachment = buffer.Attach(new Device("dev"));
        ScatterGatherTable table = buffer.MapAttachment(attachment, DmaDataDirection.ToDevice);
        ScatterGatherTable other = buffer.MapAttachment(attachment, DmaDataDirection.ToDevice);
        buffer.UnmapAttachment(attachment, table);
        BufferState before = BufferState.Of(buffer);

        DmaBufUsageException e = AssertRule("DMA0009", () => buffer.UnmapAttachment(attachment, table));

        Assert.Contains("already unmapped", e.Message, StringComparison.Ordinal);
        before.AssertUnchanged();
        Assert.True(other.IsMapped);
        TearDown(buffer);
    }

    [Fact]
    public void UnmappingATableThatWasNeverMappedIsDma0009()
    {
        DmaBuffer buffer = DmaBuffer.Export(new SystemHeapExporter(), Pages(2));
        DmaBufAttachment attachment = buffer.Attach(new Device("dev"));
        ScatterGatherTable mapped = buffer.MapAttachment(attachment, DmaDataDirection.ToDevice);
        var forged = new ScatterGatherTable(mapped.Entries);
        BufferState before = BufferState.Of(buffer);

        AssertRule("DMA0009", () => buffer.UnmapAttachment(attachment, forged));

        before.AssertUnchanged();
        Assert.False(forged.IsMapped);
        TearDown(buffer);
    }

    [Fact]
    public void UnmappingWithAnotherBuffersAttachmentIsDma0009()
    {
        DmaBuffer buffer = DmaBuffer.Export(new SystemHeapExporter(), Pages(2));
        DmaBuffer other = DmaBuffer.Export(new SystemHeapExporter(), Pages(2));
        DmaBufAttachment foreign = other.Attach(new Device("dev"));
        ScatterGatherTable foreignTable = other.MapAttachment(foreign, DmaDataDirection.ToDevice);
        BufferState beforeBuffer = BufferState.Of(buffer);
        BufferState beforeOther = BufferState.Of(other);

        AssertRule("DMA0009", () => buffer.UnmapAttachment(foreign, foreignTable));

        beforeBuffer.AssertUnchanged();
        beforeOther.AssertUnchanged();
        Assert.True(foreignTable.IsMapped);
        TearDown(buffer);
        TearDown(other);
    }

    [Fact]
    public void PuttingTheLastReferenceWithAnAttachmentMappedIsDma0009()
    {
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));
        DmaBufAttachment attachment = buffer.Attach(new Device("dev"));
        ScatterGatherTable table = buffer.MapAttachment(attachment, DmaDataDirection.ToDevice);
        BufferState before = BufferState.Of(buffer);

        AssertRule("DMA0009", buffer.Put);

        before.AssertUnchanged();
        Assert.Equal(0, exporter.ReleaseCalls);
        buffer.UnmapAttachment(attachment, table);
        buffer.Put();
        Assert.Equal(1, exporter.ReleaseCalls);
    }

    [Fact]
    public void ClosingTheLastDescriptorWithAnAttachmentMappedIsDma0009()
    {
        DmaBuffer buffer = DmaBuffer.Export(new SystemHeapExporter(), Pages(2));
        int fd = buffer.Fd();
        DmaBufAttachment attachment = buffer.Attach(new Device("dev"));
        ScatterGatherTable table = buffer.MapAttachment(attachment, DmaDataDirection.ToDevice);
        buffer.Put();
        BufferState before = BufferState.Of(buffer);

        AssertRule("DMA0009", () => DmaBuffer.CloseFd(fd));

        before.AssertUnchanged();
        buffer.UnmapAttachment(attachment, table);
        DmaBuffer.CloseFd(fd);
        Assert.True(buffer.IsReleased);
    }

    // ---- DMA0011: detaching another buffer's attachment ----

    [Fact]
    public void DetachingAnotherBuffersAttachmentIsDma0011()
    {
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));
        DmaBuffer other = DmaBuffer.Export(new SystemHeapExporter(), Pages(2));
        DmaBufAttachment own = buffer.Attach(new Device("own"));
        DmaBufAttachment foreign = other.Attach(new Device("foreign"));
        BufferState beforeBuffer = BufferState.Of(buffer);
        BufferState beforeOther = BufferState.Of(other);

        DmaBufUsageException e = AssertRule("DMA0011", () => buffer.Detach(foreign));

        Assert.Contains(other.ToString(), e.Message, StringComparison.Ordinal);
        beforeBuffer.AssertUnchanged();
        beforeOther.AssertUnchanged();
        Assert.True(foreign.IsAttached);
        Assert.Equal(0, exporter.DetachCalls);
        buffer.Detach(own);
        other.Detach(foreign);
        TearDown(buffer);
        TearDown(other);
    }

    // ---- Correct code never trips the validator ----

    private static uint Checksum(ReadOnlySpan<byte> bytes)
    {
        uint sum = 0;
        foreach (byte b in bytes)
        {
            sum = (sum * 31) + b;
        }

        return sum;
    }

    [Theory]
    [InlineData(ConstraintTests.Kind.SystemHeap)]
    [InlineData(ConstraintTests.Kind.NonCoherent)]
    public void TheDesignsExplicitBeginEndExampleIsCorrect(ConstraintTests.Kind kind)
    {
        OnOwnThread(() =>
        {
            DmaBuffer buf = DmaBuffer.Export(kind == ConstraintTests.Kind.SystemHeap ? new SystemHeapExporter() : new NonCoherentExporter(), Pages(3));
            byte[] data = Pattern(buf.Size, seed: 8);
            DeviceWrite(buf, 0, data);
            uint checksum;

            buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
            var page = buf.KmapAtomic(1);
            checksum = Checksum(page.Span);
            buf.KunmapAtomic(1, page);
            buf.EndCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);

            Assert.Equal(Checksum(data.AsSpan(PageSize, PageSize)), checksum);
            Assert.Equal(0, DmaBufValidation.AtomicMappingsHeldByCurrentThread);
            Assert.Empty(buf.BegunCpuAccesses);
            Assert.Equal(0, buf.MappedPageCount);
            buf.Put();
            Assert.True(buf.IsReleased);
        });
    }

    [Theory]
    [InlineData(ConstraintTests.Kind.SystemHeap)]
    [InlineData(ConstraintTests.Kind.NonCoherent)]
    public void TheDesignsUsingExampleIsCorrect(ConstraintTests.Kind kind)
    {
        OnOwnThread(() =>
        {
            DmaBuffer buf = DmaBuffer.Export(kind == ConstraintTests.Kind.SystemHeap ? new SystemHeapExporter() : new NonCoherentExporter(), Pages(3));
            byte[] data = Pattern(buf.Size, seed: 12);
            DeviceWrite(buf, 0, data);
            uint checksum;

            using (buf.CpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice))
            using (var page = buf.KmapAtomic(1))
                checksum = Checksum(page.Span);

            Assert.Equal(Checksum(data.AsSpan(PageSize, PageSize)), checksum);
            Assert.Equal(0, DmaBufValidation.AtomicMappingsHeldByCurrentThread);
            Assert.Empty(buf.BegunCpuAccesses);
            Assert.Equal(0, buf.MappedPageCount);
            buf.Put();
            Assert.True(buf.IsReleased);
        });
    }

    [Fact]
    public void AFullCorrectLifecycleNeverTripsTheValidator()
    {
        OnOwnThread(() =>
        {
            var exporter = TrackingExporter.OverNonCoherent();
            DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(4) + 512);
            int fd = buffer.Fd();
            buffer.Put();

            DmaBuffer importer = DmaBuffer.Get(fd);
            var device = new Device("dev") { MaxSegmentSize = Pages(2) };
            DmaBufAttachment attachment = importer.Attach(device);
            ScatterGatherTable table = importer.MapAttachment(attachment, DmaDataDirection.Bidirectional);
            device.DmaWrite(table, 0, Pattern(importer.Size, seed: 1));

            using (importer.CpuAccess(0, importer.Size, DmaDataDirection.Bidirectional))
            {
                DmaBufValidation.MightSleep();
                using (DmaBufPage plain = importer.Kmap(4))
                using (DmaBufPage a = importer.KmapAtomic(0))
                using (DmaBufPage b = importer.KmapAtomic(1))
                {
                    a.Span[0] = b.Span[1];
                    plain.Span[0] = 7;
                }

                DmaBufValidation.MightSleep();
                DmaBufPage again = importer.KmapAtomic(0);
                importer.KunmapAtomic(0, again);
            }

            importer.UnmapAttachment(attachment, table);
            importer.Detach(attachment);
            importer.Put();
            DmaBuffer.CloseFd(fd);

            Assert.True(buffer.IsReleased);
            Assert.Equal(1, exporter.ReleaseCalls);
            Assert.Equal(0, exporter.AllocatedBytes);
            Assert.Equal(0, DmaBufValidation.AtomicMappingsHeldByCurrentThread);
        });
    }

    [Fact]
    public void MightSleepOutsideAtomicContextIsFine()
    {
        Assert.Equal(0, OnOwnThread(() =>
        {
            DmaBufValidation.MightSleep();
            return DmaBufValidation.AtomicMappingsHeldByCurrentThread;
        }));
    }
}
