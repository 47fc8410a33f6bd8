// Memory safety from safe code (DESIGN §2 "Memory safety"): a stale copy of a page, a span kept past its unmap and a
// table used after the last put never reach freed memory or another buffer's memory. Each scenario runs in a child
// process (a wrong runtime crashes it), with the validator off and on.
using System;
using static DmaBuf.Runtime.Tests.TestSupport;

namespace DmaBuf.Runtime.Tests;

public class MemorySafetyTests
{
    private static readonly (Func<DmaBufExporter> Exporter, bool Atomic)[] Shapes =
    {
        (() => new SystemHeapExporter(), false),
        (() => new SystemHeapExporter(), true),
        (() => new NonCoherentExporter(), false),
        (() => new NonCoherentExporter(), true),
    };

    [Theory]
    [MemberData(nameof(ValidatorModes.OffAndOn), MemberType = typeof(ValidatorModes))]
    public void ThePageOfAMappingThatIsGoneRefusesItsSpan(bool validator) =>
        ChildProcess.Run<MemorySafetyTests>(nameof(SpanOfAnUnmappedPage), validator);

    [Theory]
    [MemberData(nameof(ValidatorModes.OffAndOn), MemberType = typeof(ValidatorModes))]
    public void AStalePageOrSpanNeverReachesTheNextBuffersMemory(bool validator) =>
        ChildProcess.Run<MemorySafetyTests>(nameof(StalePageAndTheNextBuffer), validator);

    [Theory]
    [MemberData(nameof(ValidatorModes.OffAndOn), MemberType = typeof(ValidatorModes))]
    public void ASpanOfALargeReleasedBufferStaysReadable(bool validator) =>
        ChildProcess.Run<MemorySafetyTests>(nameof(SpanOfALargeReleasedBuffer), validator);

    [Theory]
    [MemberData(nameof(ValidatorModes.OffAndOn), MemberType = typeof(ValidatorModes))]
    public void ATableOfAReleasedBufferIsUnmappedAndRefusesDma(bool validator) =>
        ChildProcess.Run<MemorySafetyTests>(nameof(TableOfAReleasedBuffer), validator);

    private static DmaBufPage Map(DmaBuffer buffer, long page, bool atomic) => atomic ? buffer.KmapAtomic(page) : buffer.Kmap(page);

    private static void Unmap(DmaBuffer buffer, DmaBufPage page)
    {
        if (page.IsAtomic)
        {
            buffer.KunmapAtomic(page.PageNumber, page);
        }
        else
        {
            buffer.Kunmap(page.PageNumber, page);
        }
    }

    /// <summary>A copy of a page kept after its Kunmap, after the EndCpuAccess that followed, or after the last put: Span throws.</summary>
    internal static void SpanOfAnUnmappedPage()
    {
        foreach ((Func<DmaBufExporter> exporter, bool atomic) in Shapes)
        {
            DmaBuffer buffer = DmaBuffer.Export(exporter(), Pages(2));
            buffer.BeginCpuAccess(0, Pages(2), DmaDataDirection.Bidirectional);
            DmaBufPage page = Map(buffer, 0, atomic);
            page.Span[0] = 1;
            DmaBufPage copy = page;
            Unmap(buffer, page);
            Assert.Throws<ObjectDisposedException>(() => copy.Span[0]);
            Assert.Throws<ObjectDisposedException>(() => page.Span.Length);

            // The next mapping of the same page is a new one: the old copy stays refused.
            DmaBufPage again = Map(buffer, 0, atomic);
            Assert.Equal(1, again.Span[0]);
            Assert.Throws<ObjectDisposedException>(() => copy.Span[0]);
            Unmap(buffer, again);
            buffer.EndCpuAccess(0, Pages(2), DmaDataDirection.Bidirectional);
            Assert.Throws<ObjectDisposedException>(() => again.Span[0]);

            // With the validator off the last put may leave a page mapped; the release unmaps it.
            DmaBufPage late = default;
            if (!DmaBufValidation.IsEnabled)
            {
                buffer.BeginCpuAccess(0, Pages(2), DmaDataDirection.Bidirectional);
                late = buffer.Kmap(1);
                late.Span[0] = 2;
            }

            buffer.Put();
            Assert.Throws<ObjectDisposedException>(() => copy.Span[0]);
            Assert.Equal(0, buffer.MappedPageCount);
            if (!DmaBufValidation.IsEnabled)
            {
                Assert.Throws<ObjectDisposedException>(() => late.Span[0]);
            }
        }
    }

    /// <summary>
    /// One buffer is released and the next one, of the same size, gets a secret: neither the stale copy of the first
    /// buffer's page nor a span taken from it before its unmap can read the secret or write over it.
    /// </summary>
    internal static void StalePageAndTheNextBuffer()
    {
        for (int round = 0; round < 64; round++)
        {
            (Func<DmaBufExporter> exporter, bool atomic) = Shapes[round % Shapes.Length];
            DmaBuffer first = DmaBuffer.Export(exporter(), Pages(4));
            first.BeginCpuAccess(0, Pages(4), DmaDataDirection.Bidirectional);
            DmaBufPage stale = Map(first, 0, atomic);
            Span<byte> early = stale.Span;
            early.Fill(0xAA);
            Unmap(first, stale);
            first.EndCpuAccess(0, Pages(4), DmaDataDirection.Bidirectional);
            first.Put();

            DmaBuffer next = DmaBuffer.Export(exporter(), Pages(4));
            next.BeginCpuAccess(0, Pages(4), DmaDataDirection.Bidirectional);
            byte[] secret = Pattern(PageSize, seed: round);
            DmaBufPage own = next.Kmap(0);
            secret.CopyTo(own.Span);

            Assert.Throws<ObjectDisposedException>(() => stale.Span[0]);
            Assert.False(early.SequenceEqual(secret), $"round {round}: a span of the released buffer reads the next buffer's secret");
            early.Fill(0xEE);
            Assert.Equal(secret, own.Span.ToArray());
            Assert.Equal(secret, CpuPage(next, 0));

            next.Kunmap(0, own);
            next.EndCpuAccess(0, Pages(4), DmaDataDirection.Bidirectional);
            next.Put();
        }
    }

    /// <summary>A span taken before the unmap of a page of a large buffer (memory the allocator gives back to the system) stays readable and writable after the release.</summary>
    internal static void SpanOfALargeReleasedBuffer()
    {
        const long Size = 64L << 20;
        foreach (bool contiguousHeap in new[] { true, false })
        {
            DmaBuffer buffer = DmaBuffer.Export(contiguousHeap ? new SystemHeapExporter() : new NonCoherentExporter(), Size);
            DmaBufAttachment attachment = buffer.Attach(new Device("dev") { RequiresContiguous = true });
            ScatterGatherTable table = buffer.MapAttachment(attachment, DmaDataDirection.Bidirectional);
            Assert.Single(table.Entries);
            buffer.UnmapAttachment(attachment, table);
            buffer.Detach(attachment);
            buffer.BeginCpuAccess(Size - PageSize, PageSize, DmaDataDirection.Bidirectional);
            DmaBufPage page = buffer.Kmap(buffer.PageCount - 1);
            Span<byte> early = page.Span;
            early[0] = 7;
            buffer.Kunmap(page.PageNumber, page);
            buffer.EndCpuAccess(Size - PageSize, PageSize, DmaDataDirection.Bidirectional);
            buffer.Put();
            GC.Collect();

            Assert.Throws<ObjectDisposedException>(() => page.Span[0]);
            Assert.Equal(7, early[0]);
            early[PageSize - 1] = 8;
            Assert.Equal(8, early[PageSize - 1]);
        }
    }

    /// <summary>
    /// With the validator off, the last put with a table still mapped releases the buffer and unmaps the table; with it
    /// on, that put is refused (DMA0009) and the table of a buffer released later is refused too.
    /// </summary>
    internal static void TableOfAReleasedBuffer()
    {
        for (int round = 0; round < 16; round++)
        {
            DmaBuffer buffer = DmaBuffer.Export(round % 2 == 0 ? new SystemHeapExporter() : new NonCoherentExporter(), Pages(4));
            var device = new Device("dev");
            DmaBufAttachment attachment = buffer.Attach(device);
            ScatterGatherTable table = buffer.MapAttachment(attachment, DmaDataDirection.Bidirectional);
            device.DmaWrite(table, 0, Pattern(Pages(4), seed: 1));
            if (DmaBufValidation.IsEnabled)
            {
                Assert.Equal("DMA0009", Assert.Throws<DmaBufUsageException>(buffer.Put).RuleId);
                Assert.True(table.IsMapped);
                device.DmaRead(table, 0, new byte[16]);
                buffer.UnmapAttachment(attachment, table);
                buffer.Detach(attachment);
            }

            buffer.Put();

            Assert.True(buffer.IsReleased);
            Assert.False(table.IsMapped);
            Assert.Equal(0, buffer.MappedTableCount);
            Assert.Equal(0, attachment.MappedTableCount);

            // The next buffer's secret stays out of reach of the old table.
            DmaBuffer next = DmaBuffer.Export(new SystemHeapExporter(), Pages(4));
            byte[] secret = Pattern(Pages(4), seed: round + 2);
            DeviceWrite(next, 0, secret);
            var read = new byte[Pages(4)];
            Assert.Throws<ObjectDisposedException>(() => device.DmaRead(table, 0, read));
            Assert.Throws<ObjectDisposedException>(() => device.DmaWrite(table, 0, new byte[Pages(4)]));
            Assert.DoesNotContain(read, b => b != 0);
            Assert.Equal(secret, DeviceView(next));
            next.Put();
        }
    }
}
