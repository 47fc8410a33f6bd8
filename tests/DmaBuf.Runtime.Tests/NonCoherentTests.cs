// The non-coherent exporter's stale copies: only the begun range is brought into the CPU's view and only the ended
// range written back, by direction, to the byte in partial pages; the system heap is coherent.
using System;
using System.Linq;
using static DmaBuf.Runtime.Tests.TestSupport;

namespace DmaBuf.Runtime.Tests;

/// <summary>
/// The non-coherent exporter makes what the seed calls undefined observable: only the begun range is brought into
/// the CPU's view, only the ended range is written back, and everything else stays stale.
/// </summary>
public class NonCoherentTests
{
    private static readonly byte[] Zeros = new byte[PageSize];

    private static byte[] Slice(byte[] bytes, long offset, long length) => bytes.AsSpan((int)offset, (int)length).ToArray();

    [Fact]
    public unsafe void DeviceWritesReachTheCpuOnlyInsideTheRangeBegunForReading()
    {
        var exporter = new NonCoherentExporter();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(4));
        byte[] fromDevice = Pattern(buffer.Size, seed: 1);
        DeviceWrite(buffer, 0, fromDevice);

        using (buffer.CpuAccess(PageSize, PageSize, DmaDataDirection.FromDevice))
        {
            Assert.Equal(Slice(fromDevice, PageSize, PageSize), CpuPage(buffer, 1));

            // What a kmap outside the range would see (the validator refuses such a kmap, so ask the exporter):
            // the pages that were not begun are still the CPU's stale copy.
            foreach (long page in new long[] { 0, 2, 3 })
            {
                nint address = exporter.Kmap(buffer, page);
                Assert.Equal(Zeros, new ReadOnlySpan<byte>((void*)address, PageSize).ToArray());
                exporter.Kunmap(buffer, page, address);
            }
        }

        // An access for writing does not bring the device's data in either: page 2 is still stale.
        using (buffer.CpuAccess(Pages(2), PageSize, DmaDataDirection.ToDevice))
        {
            Assert.Equal(Zeros, CpuPage(buffer, 2));
        }

        buffer.Put();
    }

    [Fact]
    public void InAPartialPageOnlyTheBytesInsideTheRangeAreFresh()
    {
        DmaBuffer buffer = DmaBuffer.Export(new NonCoherentExporter(), Pages(3));
        byte[] fromDevice = Pattern(buffer.Size, seed: 2);
        DeviceWrite(buffer, 0, fromDevice);

        using (buffer.CpuAccess(100, 200, DmaDataDirection.FromDevice))
        {
            byte[] page = CpuPage(buffer, 0);
            Assert.Equal(Slice(fromDevice, 100, 200), Slice(page, 100, 200));
            Assert.All(page.Take(100), b => Assert.Equal(0, b));
            Assert.All(page.Skip(300), b => Assert.Equal(0, b));
        }

        // A range across a page boundary: the tail of page 0 and the head of page 1 are fresh, nothing else.
        using (buffer.CpuAccess(Pages(2) - 50, 100, DmaDataDirection.FromDevice))
        {
            byte[] page1 = CpuPage(buffer, 1);
            byte[] page2 = CpuPage(buffer, 2);
            Assert.Equal(Slice(fromDevice, Pages(2) - 50, 50), Slice(page1, PageSize - 50, 50));
            Assert.All(page1.Take(PageSize - 50), b => Assert.Equal(0, b));
            Assert.Equal(Slice(fromDevice, Pages(2), 50), Slice(page2, 0, 50));
            Assert.All(page2.Skip(50), b => Assert.Equal(0, b));
        }

        buffer.Put();
    }

    [Fact]
    public void OnlyABeginBringsLaterDeviceWritesIn()
    {
        DmaBuffer buffer = DmaBuffer.Export(new NonCoherentExporter(), Pages(2));
        byte[] first = Pattern(buffer.Size, seed: 3);
        byte[] second = Pattern(buffer.Size, seed: 4);
        DeviceWrite(buffer, 0, first);

        buffer.BeginCpuAccess(0, buffer.Size, DmaDataDirection.FromDevice);
        Assert.Equal(Slice(first, 0, PageSize), CpuPage(buffer, 0));
        DeviceWrite(buffer, 0, second);

        // Mapping the page again within the same access still shows what the begin brought in.
        Assert.Equal(Slice(first, 0, PageSize), CpuPage(buffer, 0));
        buffer.EndCpuAccess(0, buffer.Size, DmaDataDirection.FromDevice);

        using (buffer.CpuAccess(0, buffer.Size, DmaDataDirection.FromDevice))
        {
            Assert.Equal(Slice(second, 0, PageSize), CpuPage(buffer, 0));
        }

        buffer.Put();
    }

    [Fact]
    public void CpuWritesWhoseAccessIsNeverEndedNeverReachTheDevice()
    {
        DmaBuffer buffer = DmaBuffer.Export(new NonCoherentExporter(), Pages(2));
        byte[] fromCpu = Pattern(buffer.Size, seed: 5);

        buffer.BeginCpuAccess(0, buffer.Size, DmaDataDirection.ToDevice);
        for (long page = 0; page < buffer.PageCount; page++)
        {
            using DmaBufPage mapped = buffer.Kmap(page);
            fromCpu.AsSpan((int)Pages(page), PageSize).CopyTo(mapped.Span);
        }

        // The end is forgotten: the device sees none of it, and the validator refuses the last put.
        Assert.Equal(new byte[buffer.Size], DeviceView(buffer));
        var e = Assert.Throws<DmaBufUsageException>(buffer.Put);
        Assert.Equal("DMA0001", e.RuleId);

        buffer.EndCpuAccess(0, buffer.Size, DmaDataDirection.ToDevice);
        Assert.Equal(fromCpu, DeviceView(buffer));
        buffer.Put();
    }

    [Fact]
    public void AnEndWritesBackOnlyItsRange()
    {
        DmaBuffer buffer = DmaBuffer.Export(new NonCoherentExporter(), Pages(2));
        byte[] fromCpu = Pattern(PageSize, seed: 6);

        using (buffer.CpuAccess(100, 200, DmaDataDirection.ToDevice))
        using (DmaBufPage page = buffer.Kmap(0))
        {
            fromCpu.CopyTo(page.Span);
        }

        byte[] seen = DeviceView(buffer);
        Assert.Equal(Slice(fromCpu, 100, 200), Slice(seen, 100, 200));
        Assert.All(seen.Take(100), b => Assert.Equal(0, b));
        Assert.All(seen.Skip(300), b => Assert.Equal(0, b));
        buffer.Put();
    }

    [Theory]
    [InlineData(DmaDataDirection.FromDevice, true, false)]
    [InlineData(DmaDataDirection.ToDevice, false, true)]
    [InlineData(DmaDataDirection.Bidirectional, true, true)]
    [InlineData(DmaDataDirection.None, false, false)]
    public void TheDirectionDecidesWhatBeginBringsInAndWhatEndWritesBack(DmaDataDirection direction, bool beginBringsIn, bool endWritesBack)
    {
        DmaBuffer buffer = DmaBuffer.Export(new NonCoherentExporter(), Pages(2));
        byte[] fromDevice = Pattern(buffer.Size, seed: 7);
        byte[] fromCpu = Pattern(PageSize, seed: 8);
        DeviceWrite(buffer, 0, fromDevice);

        using (buffer.CpuAccess(0, buffer.Size, direction))
        {
            Assert.Equal(beginBringsIn ? Slice(fromDevice, 0, PageSize) : Zeros, CpuPage(buffer, 0));
            using DmaBufPage page = buffer.Kmap(0);
            fromCpu.CopyTo(page.Span);
        }

        byte[] seen = DeviceView(buffer);
        Assert.Equal(endWritesBack ? fromCpu : Slice(fromDevice, 0, PageSize), Slice(seen, 0, PageSize));

        // Page 1 was not written by the CPU: a write-back returns the CPU's copy of it (fresh only if it was brought in).
        byte[] page1 = endWritesBack && !beginBringsIn ? Zeros : Slice(fromDevice, PageSize, PageSize);
        Assert.Equal(page1, Slice(seen, PageSize, PageSize));
        buffer.Put();
    }

    [Fact]
    public void TheSystemHeapIsCoherentSoNothingIsStale()
    {
        DmaBuffer buffer = DmaBuffer.Export(new SystemHeapExporter(), Pages(2));
        byte[] fromDevice = Pattern(buffer.Size, seed: 9);
        byte[] fromCpu = Pattern(PageSize, seed: 10);

        using (buffer.CpuAccess(0, PageSize, DmaDataDirection.ToDevice))
        {
            DeviceWrite(buffer, 0, fromDevice);
            Assert.Equal(Slice(fromDevice, 0, PageSize), CpuPage(buffer, 0));
            using DmaBufPage page = buffer.Kmap(0);
            fromCpu.CopyTo(page.Span);
            Assert.Equal(fromCpu, Slice(DeviceView(buffer), 0, PageSize));
        }

        buffer.Put();
    }
}
