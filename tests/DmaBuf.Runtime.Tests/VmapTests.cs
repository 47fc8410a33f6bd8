// Vmap and vunmap (dma_buf_vmap/dma_buf_vunmap of v5.6 on): one shared, counted view per buffer with the exporter's op
// at the first vmap and the last vunmap, EINVAL without the op, the bytes by range, stale copies, wrong vunmaps, the
// last put with vmaps outstanding, the validator's DMA0005/DMA0007/DMA0012, and the non-coherent exporter's stale view.
// Scenarios that need the validator off, or that a wrong runtime could crash, run in a child process.
using System;
using System.Linq;
using static DmaBuf.Runtime.Tests.TestSupport;

namespace DmaBuf.Runtime.Tests;

public class VmapTests
{
    private static readonly Func<DmaBufExporter>[] Exporters = { () => new SystemHeapExporter(), () => new NonCoherentExporter() };

    public static TheoryData<bool> CoherentOrNot => new() { true, false };

    private static TrackingExporter Tracking(bool coherent) => coherent ? TrackingExporter.OverSystemHeap() : TrackingExporter.OverNonCoherent();

    [Theory]
    [MemberData(nameof(CoherentOrNot))]
    public void VmapsShareOneViewAndTheExporterMapsAtTheFirstAndUnmapsAtTheLast(bool coherent)
    {
        TrackingExporter exporter = Tracking(coherent);
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(3));
        DmaBufVmap a = buffer.Vmap();
        DmaBufVmap b = buffer.Vmap();
        DmaBufVmap c = buffer.Vmap();
        Assert.Equal(1, exporter.VmapCalls);
        Assert.Equal(3, buffer.VmapCount);
        Assert.Equal(a.Address, b.Address);
        Assert.Equal(a.Address, c.Address);
        Assert.Equal(exporter.LastVmapAddress, a.Address);
        Assert.NotEqual(a, b);
        Assert.Same(buffer, a.Buffer);
        Assert.Equal(buffer.Size, a.Length);

        buffer.Vunmap(b);
        buffer.Vunmap(a);
        Assert.Equal(0, exporter.VunmapCalls);
        Assert.Equal(1, buffer.VmapCount);
        Assert.True(c.IsMapped);
        Assert.False(a.IsMapped);

        c.Dispose();
        Assert.Equal(1, exporter.VunmapCalls);
        Assert.Equal(a.Address, exporter.LastVunmapAddress);
        Assert.Equal(0, buffer.VmapCount);

        // A vmap after the last vunmap maps anew.
        using (buffer.Vmap())
        {
            Assert.Equal(2, exporter.VmapCalls);
        }

        Assert.Equal(2, exporter.VunmapCalls);
        buffer.Put();
        Assert.Equal(1, exporter.ReleaseCalls);
    }

    [Fact]
    public void AnExporterWithoutVmapIsEinvalAndChangesNothing()
    {
        TrackingExporter exporter = TrackingExporter.OverSystemHeap();
        exporter.WithoutVmap = true;
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));
        BufferState before = BufferState.Of(buffer);
        var e = Assert.Throws<DmaBufException>(() => buffer.Vmap());
        Assert.Equal(Errno.EINVAL, e.Errno);
        before.AssertUnchanged();
        Assert.Equal(0, buffer.VmapCount);
        buffer.Put();
        Assert.Equal(1, exporter.ReleaseCalls);
    }

    [Fact]
    public void AVmapWhoseExporterFailsChangesNothingAndTheNextOneMaps()
    {
        TrackingExporter exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));
        exporter.OnVmap = () => throw new DmaBufException(Errno.ENOMEM, "no vmalloc space");
        BufferState before = BufferState.Of(buffer);
        Assert.Equal(Errno.ENOMEM, Assert.Throws<DmaBufException>(() => buffer.Vmap()).Errno);
        before.AssertUnchanged();

        exporter.OnVmap = null;
        DmaBufVmap map = buffer.Vmap();
        Assert.Equal(1, buffer.VmapCount);
        Assert.Equal(1, exporter.VmapCalls);

        // A vunmap whose exporter fails leaves the vmap mapped, and it can be vunmapped again.
        exporter.OnVunmap = () => throw new DmaBufException(Errno.EIO, "vunmap failed");
        Assert.Throws<DmaBufException>(() => buffer.Vunmap(map));
        Assert.True(map.IsMapped);
        Assert.Equal(1, buffer.VmapCount);
        exporter.OnVunmap = null;
        buffer.Vunmap(map);
        Assert.Equal(0, buffer.VmapCount);
        buffer.Put();
    }

    [Theory]
    [MemberData(nameof(CoherentOrNot))]
    public void TheVmapIsTheBuffersOwnBytesAsPagesAndDevicesSeeThem(bool coherent)
    {
        DmaBufExporter exporter = coherent ? new SystemHeapExporter() : new NonCoherentExporter();
        const long Size = (3 * PageSize) + 100;
        DmaBuffer buffer = DmaBuffer.Export(exporter, Size);
        byte[] pattern = Pattern(Size, seed: 3);
        using (DmaBufVmap map = buffer.Vmap())
        {
            Assert.Equal(Size, map.Length);
            using (buffer.CpuAccess(DmaDataDirection.Bidirectional))
            {
                // Written in two spans that cross a page boundary, read back through one and through kmap.
                pattern.AsSpan(0, PageSize + 10).CopyTo(map.GetSpan(0, PageSize + 10));
                pattern.AsSpan(PageSize + 10).CopyTo(map.GetSpan(PageSize + 10, (int)Size - PageSize - 10));
                Assert.Equal(pattern, map.GetSpan(0, (int)Size).ToArray());
                Assert.Equal(pattern.AsSpan(PageSize, PageSize).ToArray(), CpuPage(buffer, 1));
                Assert.Equal(0, map.GetSpan(Size, 0).Length);
            }
        }

        Assert.Equal(pattern, DeviceView(buffer));
        buffer.Put();
    }

    [Fact]
    public void GetSpanRefusesARangeOutsideTheBuffer()
    {
        DmaBuffer buffer = DmaBuffer.Export(new SystemHeapExporter(), Pages(2));
        buffer.BeginCpuAccess(DmaDataDirection.Bidirectional);
        DmaBufVmap map = buffer.Vmap();
        Assert.Throws<ArgumentOutOfRangeException>(() => map.GetSpan(-1, 1).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => map.GetSpan(0, -1).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => map.GetSpan(1, (int)Pages(2)).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => map.GetSpan(Pages(2) + 1, 0).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => map.GetSpan(long.MaxValue, 1).Length);
        Assert.Equal((int)Pages(2), map.GetSpan(0, (int)Pages(2)).Length);

        DmaBufVmap none = default;
        Assert.Equal(0, none.GetSpan(0, 0).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => none.GetSpan(0, 1).Length);
        Assert.False(none.IsMapped);
        none.Dispose();

        buffer.Vunmap(map);
        buffer.EndCpuAccess(DmaDataDirection.Bidirectional);
        buffer.Put();
    }

    [Fact]
    public void WithTheValidatorOnTheBytesOfAVmapNeedACpuAccessBegun()
    {
        DmaBuffer buffer = DmaBuffer.Export(new SystemHeapExporter(), Pages(2));
        DmaBufVmap map = buffer.Vmap();
        Assert.Equal("DMA0007", Assert.Throws<DmaBufUsageException>(() => map.GetSpan(0, 1).Length).RuleId);

        buffer.BeginCpuAccess(DmaDataDirection.FromDevice);
        Assert.Equal(1, map.GetSpan(0, 1).Length);
        buffer.EndCpuAccess(DmaDataDirection.FromDevice);
        Assert.Equal("DMA0007", Assert.Throws<DmaBufUsageException>(() => map.GetSpan(0, 1).Length).RuleId);

        // A ranged access counts too (the page span is DMA0006's, which is about kmap).
        using (buffer.CpuAccess(0, PageSize, DmaDataDirection.ToDevice))
        {
            Assert.Equal(1, map.GetSpan(0, 1).Length);
        }

        buffer.Vunmap(map);
        buffer.Put();
    }

    [Fact]
    public void WithTheValidatorOnVmapAndVunmapUnderAnAtomicKmapAreDma0005AndChangeNothing() => OnOwnThread(() =>
    {
        DmaBuffer buffer = DmaBuffer.Export(new SystemHeapExporter(), Pages(2));
        buffer.BeginCpuAccess(DmaDataDirection.Bidirectional);
        DmaBufVmap map = buffer.Vmap();
        DmaBufPage page = buffer.KmapAtomic(0);
        BufferState before = BufferState.Of(buffer);
        Assert.Equal("DMA0005", Assert.Throws<DmaBufUsageException>(() => buffer.Vmap()).RuleId);
        Assert.Equal("DMA0005", Assert.Throws<DmaBufUsageException>(() => buffer.Vunmap(map)).RuleId);
        before.AssertUnchanged();
        Assert.True(map.IsMapped);
        buffer.KunmapAtomic(0, page);
        buffer.Vunmap(map);
        buffer.EndCpuAccess(DmaDataDirection.Bidirectional);
        buffer.Put();
    });

    [Theory]
    [MemberData(nameof(ValidatorModes.OffAndOn), MemberType = typeof(ValidatorModes))]
    public void ASecondVunmapAndAnotherBuffersVmapAreRefusedAndChangeNothing(bool validator) =>
        ChildProcess.Run<VmapTests>(nameof(WrongVunmaps), validator);

    [Theory]
    [MemberData(nameof(ValidatorModes.OffAndOn), MemberType = typeof(ValidatorModes))]
    public void AStaleVmapRefusesItsSpanAndNeverReachesTheNextBuffersMemory(bool validator) =>
        ChildProcess.Run<VmapTests>(nameof(StaleVmaps), validator);

    [Theory]
    [MemberData(nameof(ValidatorModes.OffAndOn), MemberType = typeof(ValidatorModes))]
    public void TheLastPutWithVmapsOutstandingIsDma0012OrVunmapsThemBeforeTheRelease(bool validator) =>
        ChildProcess.Run<VmapTests>(nameof(LastPutWithVmaps), validator);

    [Theory]
    [MemberData(nameof(ValidatorModes.OffAndOn), MemberType = typeof(ValidatorModes))]
    public void OfTwoThreadsVunmappingOneVmapExactlyOneSucceeds(bool validator) =>
        ChildProcess.Run<VmapTests>(nameof(TwoThreadsVunmapOneVmap), validator);

    [Fact]
    public void TheNonCoherentVmapShowsStaleDataOutsideABegunAccess()
    {
        var exporter = new NonCoherentExporter();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(3));
        byte[] fromDevice = Pattern(buffer.Size, seed: 5);
        DeviceWrite(buffer, 0, fromDevice);
        DmaBufVmap map = buffer.Vmap();

        // Only page 1 is brought in: through the vmap, pages 0 and 2 are the CPU's stale (zero) copy.
        using (buffer.CpuAccess(PageSize, PageSize, DmaDataDirection.FromDevice))
        {
            Assert.Equal(fromDevice.AsSpan(PageSize, PageSize).ToArray(), map.GetSpan(PageSize, PageSize).ToArray());
            Assert.DoesNotContain(map.GetSpan(0, PageSize).ToArray(), b => b != 0);
            Assert.DoesNotContain(map.GetSpan(Pages(2), PageSize).ToArray(), b => b != 0);
        }

        // The whole-buffer access brings everything in; a write through the vmap reaches the device only at the end.
        byte[] fromCpu = Pattern(buffer.Size, seed: 6);
        buffer.BeginCpuAccess(DmaDataDirection.Bidirectional);
        Assert.Equal(fromDevice, map.GetSpan(0, (int)buffer.Size).ToArray());
        fromCpu.CopyTo(map.GetSpan(0, (int)buffer.Size));
        Assert.Equal(fromDevice, DeviceView(buffer));
        buffer.EndCpuAccess(DmaDataDirection.Bidirectional);
        Assert.Equal(fromCpu, DeviceView(buffer));

        buffer.Vunmap(map);
        buffer.Put();
    }

    [Fact]
    public void AVmapOfAReleasedBufferIsObjectDisposed()
    {
        DmaBuffer buffer = DmaBuffer.Export(new SystemHeapExporter(), Pages(1));
        DmaBufVmap map = buffer.Vmap();
        buffer.Vunmap(map);
        buffer.Put();
        Assert.Throws<ObjectDisposedException>(() => buffer.Vmap());
        Assert.Throws<ObjectDisposedException>(() => buffer.Vunmap(map));
        Assert.Throws<ObjectDisposedException>(() => map.GetSpan(0, 1).Length);
        Assert.Equal(0, buffer.VmapCount);
    }

    /// <summary>A second vunmap (of the map or a copy), another buffer's map and the default map: refused, nothing changes.</summary>
    internal static void WrongVunmaps()
    {
        bool validator = DmaBufValidation.IsEnabled;
        foreach (Func<DmaBufExporter> make in Exporters)
        {
            var exporter = new TrackingExporter(make());
            DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));
            DmaBuffer other = DmaBuffer.Export(make(), Pages(2));
            DmaBufVmap first = buffer.Vmap();
            DmaBufVmap kept = buffer.Vmap();
            DmaBufVmap copy = first;
            DmaBufVmap foreign = other.Vmap();
            buffer.Vunmap(first);

            BufferState before = BufferState.Of(buffer);
            Exception twice = Assert.ThrowsAny<Exception>(() => buffer.Vunmap(copy));
            Exception disposed = Assert.ThrowsAny<Exception>(() => first.Dispose());
            Exception wrong = Assert.ThrowsAny<Exception>(() => buffer.Vunmap(foreign));
            var none = Assert.Throws<ArgumentException>(() => buffer.Vunmap(default));
            Assert.Equal("map", none.ParamName);
            if (validator)
            {
                Assert.Equal("DMA0012", Assert.IsType<DmaBufUsageException>(twice).RuleId);
                Assert.Equal("DMA0012", Assert.IsType<DmaBufUsageException>(disposed).RuleId);
                Assert.Equal("DMA0012", Assert.IsType<DmaBufUsageException>(wrong).RuleId);
            }
            else
            {
                Assert.IsType<ObjectDisposedException>(twice);
                Assert.IsType<ObjectDisposedException>(disposed);
                Assert.Equal("map", Assert.IsType<ArgumentException>(wrong).ParamName);
            }

            before.AssertUnchanged();
            Assert.Equal(1, buffer.VmapCount);
            Assert.Equal(1, other.VmapCount);
            Assert.Equal(0, exporter.VunmapCalls);
            Assert.True(kept.IsMapped);
            Assert.True(foreign.IsMapped);

            buffer.Vunmap(kept);
            Assert.Equal(1, exporter.VunmapCalls);
            other.Vunmap(foreign);
            buffer.Put();
            other.Put();
        }
    }

    /// <summary>
    /// A copy of a vmap kept past its vunmap, or past the last put, refuses its span; a span taken before the vunmap
    /// still touches only the released buffer's old memory, never the next buffer's.
    /// </summary>
    internal static void StaleVmaps()
    {
        for (int round = 0; round < 32; round++)
        {
            Func<DmaBufExporter> make = Exporters[round % Exporters.Length];
            DmaBuffer first = DmaBuffer.Export(make(), Pages(4));
            first.BeginCpuAccess(DmaDataDirection.Bidirectional);
            DmaBufVmap stale = first.Vmap();
            DmaBufVmap copy = stale;
            DmaBufVmap other = first.Vmap();
            Span<byte> early = stale.GetSpan(0, (int)Pages(4));
            early.Fill(0xAA);
            first.Vunmap(stale);
            Assert.Throws<ObjectDisposedException>(() => copy.GetSpan(0, 1).Length);
            Assert.Equal(0xAA, other.GetSpan(0, 1)[0]);
            first.Vunmap(other);
            first.EndCpuAccess(DmaDataDirection.Bidirectional);
            first.Put();
            Assert.Throws<ObjectDisposedException>(() => other.GetSpan(0, 1).Length);

            DmaBuffer next = DmaBuffer.Export(make(), Pages(4));
            next.BeginCpuAccess(DmaDataDirection.Bidirectional);
            DmaBufVmap own = next.Vmap();
            byte[] secret = Pattern(Pages(4), seed: round);
            secret.CopyTo(own.GetSpan(0, secret.Length));

            Assert.Throws<ObjectDisposedException>(() => stale.GetSpan(0, 1).Length);
            Assert.False(early.SequenceEqual(secret), $"round {round}: a span of the released buffer reads the next buffer's secret");
            early.Fill(0xEE);
            Assert.Equal(secret, own.GetSpan(0, secret.Length).ToArray());
            next.EndCpuAccess(DmaDataDirection.Bidirectional);
            own.Dispose();
            next.Put();
        }
    }

    /// <summary>
    /// Validator on: the last put with vmaps outstanding is DMA0012 and changes nothing. Off: it releases the buffer,
    /// the exporter's vunmap runs once before its release, and the vmaps refuse their spans and a later vunmap.
    /// </summary>
    internal static void LastPutWithVmaps()
    {
        foreach (Func<DmaBufExporter> make in Exporters)
        {
            var exporter = new TrackingExporter(make());
            DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));
            int fd = buffer.Fd();
            buffer.Put();
            DmaBufVmap a = buffer.Vmap();
            DmaBufVmap b = buffer.Vmap();
            int vunmapsAtRelease = -1;
            exporter.OnRelease = () => vunmapsAtRelease = exporter.VunmapCalls;

            if (DmaBufValidation.IsEnabled)
            {
                BufferState before = BufferState.Of(buffer);
                Assert.Equal("DMA0012", Assert.Throws<DmaBufUsageException>(() => DmaBuffer.CloseFd(fd)).RuleId);
                before.AssertUnchanged();
                Assert.True(a.IsMapped && b.IsMapped);
                buffer.Vunmap(a);
                buffer.Vunmap(b);
                DmaBuffer.CloseFd(fd);
                Assert.Equal(1, vunmapsAtRelease);
            }
            else
            {
                DmaBuffer.CloseFd(fd);
                Assert.Equal(1, vunmapsAtRelease);
                Assert.Equal(1, exporter.VunmapCalls);
                Assert.Equal(exporter.LastVmapAddress, exporter.LastVunmapAddress);
                Assert.False(a.IsMapped || b.IsMapped);
                Assert.Throws<ObjectDisposedException>(() => a.GetSpan(0, 1).Length);
                Assert.Throws<ObjectDisposedException>(() => buffer.Vunmap(b));
            }

            Assert.True(buffer.IsReleased);
            Assert.Equal(0, buffer.VmapCount);
            Assert.Equal(1, exporter.ReleaseCalls);
            Assert.Equal(0, exporter.AllocatedBytes);
        }
    }

    /// <summary>Two threads vunmap one vmap (and its copy) at once, many times: one wins and reaches the exporter, the other is refused.</summary>
    internal static void TwoThreadsVunmapOneVmap()
    {
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));
        const int Rounds = 2000;
        int refused = 0;
        for (int round = 0; round < Rounds; round++)
        {
            DmaBufVmap map = buffer.Vmap();
            DmaBufVmap copy = map;
            using var start = new System.Threading.Barrier(2);
            int won = 0;
            void Vunmap(DmaBufVmap which)
            {
                start.SignalAndWait();
                try
                {
                    buffer.Vunmap(which);
                    System.Threading.Interlocked.Increment(ref won);
                }
                catch (Exception e) when (e is ObjectDisposedException || (e is DmaBufUsageException u && u.RuleId == "DMA0012"))
                {
                    System.Threading.Interlocked.Increment(ref refused);
                }
            }

            var other = new System.Threading.Thread(() => Vunmap(copy));
            other.Start();
            Vunmap(map);
            other.Join();
            Assert.Equal(1, won);
            Assert.Equal(0, buffer.VmapCount);
        }

        Assert.Equal(Rounds, refused);
        Assert.Equal(Rounds, exporter.VmapCalls);
        Assert.Equal(Rounds, exporter.VunmapCalls);
        buffer.Put();
    }
}
