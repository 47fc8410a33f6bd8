// Seeded random sequences of sharing and CPU-access operations from several threads, checked against a small model
// (counts, tables, ranges, mappings, the bytes each side sees); invalid ones are refused as documented and change
// nothing.
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;

namespace DmaBuf.Reliability.Tests;

/// <summary>
/// Seeded random sequences of sharing and CPU-access operations, run from several threads against a small
/// reference model: reference counts, attachments, mapped tables, begun ranges, mappings, and the bytes that
/// the CPU and devices write and read back through <see cref="SystemHeapExporter"/> (coherent: one memory) and
/// <see cref="NonCoherentExporter"/> (a CPU view that only begin/end bring in and write back). Valid operations
/// never trip the validator; random invalid operations are refused with the documented exception and change nothing.
/// </summary>
public sealed class RuntimeModelTests
{
    internal const int Threads = 4;
    internal const int SequencesPerThread = 120;
    internal const int OperationsPerSequence = 80;
    private const int BaseSeed = 20261125;

    [Fact]
    public void RandomSequencesAgreeWithTheModelFromSeveralThreads()
    {
        Assert.True(DmaBufValidation.IsEnabled);
        var failures = new ConcurrentQueue<string>();
        var totals = new ModelTotals();
        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            for (int s = 0; s < SequencesPerThread; s++)
            {
                int seed = BaseSeed + (t * 10_000) + s;
                try
                {
                    new ModelSequence(new Random(seed), totals).Run(OperationsPerSequence);
                }
                catch (Exception e)
                {
                    failures.Enqueue($"seed {seed}: {e}");
                    return;
                }
            }
        })).ToList();
        threads.ForEach(thread => thread.Start());
        threads.ForEach(thread => thread.Join());

        Assert.Empty(failures);
        Assert.Equal((long)Threads * SequencesPerThread, totals.Sequences);
        // Every kind of operation ran, valid and invalid: the generator is not stuck in a corner.
        Assert.All(Enum.GetValues<Op>(), op => Assert.True(totals.Count(op) > 0, $"{op} never ran"));
        Assert.All(Enum.GetValues<Bad>(), bad => Assert.True(totals.Count(bad) > 0, $"invalid {bad} never ran"));
    }
}

internal enum Op
{
    Export, Fd, Get, CloseFd, Put, Attach, Detach, Map, Unmap, DeviceWrite, DeviceRead,
    Begin, End, Kmap, KmapAtomic, Unmap1, CpuWrite, CpuRead,
}

internal enum Bad
{
    PagePastEnd, NegativeStart, PastTheEnd, OverflowingRange, UndefinedDirection, EndNotBegun, ThirdAtomic,
    KmapOutside, KmapNothingBegun, WrongUnmapCall, DetachWhileMapped, BadDescriptor, BlockWhileAtomic, UseAfterPut,
}

internal sealed class ModelTotals
{
    private readonly long[] _ops = new long[Enum.GetValues<Op>().Length];
    private readonly long[] _bad = new long[Enum.GetValues<Bad>().Length];
    private long _sequences;

    public long Sequences => Interlocked.Read(ref _sequences);

    public void Sequence() => Interlocked.Increment(ref _sequences);

    public void Ran(Op op) => Interlocked.Increment(ref _ops[(int)op]);

    public void Ran(Bad bad) => Interlocked.Increment(ref _bad[(int)bad]);

    public long Count(Op op) => Interlocked.Read(ref _ops[(int)op]);

    public long Count(Bad bad) => Interlocked.Read(ref _bad[(int)bad]);
}

/// <summary>One buffer as the model sees it.</summary>
internal sealed class ModelBuffer
{
    public ModelBuffer(DmaBuffer buffer, DmaBufExporter exporter, bool coherent)
    {
        Buffer = buffer;
        Exporter = exporter;
        Coherent = coherent;
        DeviceBytes = new byte[buffer.PageCount * DmaBuffer.PageSize];
        CpuBytes = coherent ? DeviceBytes : new byte[DeviceBytes.Length];
    }

    public DmaBuffer Buffer { get; }

    public DmaBufExporter Exporter { get; }

    public bool Coherent { get; }

    public byte[] DeviceBytes { get; }

    public byte[] CpuBytes { get; }

    public int OwnReferences { get; set; } = 1;

    public List<int> Descriptors { get; } = new();

    public List<(DmaBufAttachment Attachment, List<ScatterGatherTable> Tables)> Attachments { get; } = new();

    public List<CpuAccessRange> Begun { get; } = new();

    public List<DmaBufPage> Mappings { get; } = new();

    /// <summary>The SystemHeap layout, once allocated: pages per segment.</summary>
    public long SegmentPages { get; set; }

    public int References => OwnReferences + Descriptors.Count;

    public bool Outstanding => Begun.Count > 0 || Mappings.Count > 0 || Attachments.Any(a => a.Tables.Count > 0);

    public long AllocatedBytes => Exporter switch
    {
        SystemHeapExporter heap => heap.AllocatedBytes,
        NonCoherentExporter nonCoherent => nonCoherent.AllocatedBytes,
        _ => throw new InvalidOperationException(),
    };

    public void AssertAgrees()
    {
        Assert.False(Buffer.IsReleased);
        Assert.Equal(References, Buffer.ReferenceCount);
        Assert.Equal(Attachments.Count, Buffer.Attachments.Count);
        Assert.Equal(Attachments.Sum(a => a.Tables.Count), Buffer.MappedTableCount);
        Assert.Equal(Mappings.Count, Buffer.MappedPageCount);
        Assert.Equal(Begun.OrderBy(r => r.Start).ThenBy(r => r.Length).ThenBy(r => r.Direction), Buffer.BegunCpuAccesses.OrderBy(r => r.Start).ThenBy(r => r.Length).ThenBy(r => r.Direction));
    }

    /// <summary>Lays out a SystemHeap buffer in the model as the exporter does at its first map, begin or kmap.</summary>
    public void Allocated()
    {
        if (Coherent && SegmentPages == 0)
        {
            long pages = Buffer.PageCount;
            long limit = Attachments.Select(a => a.Attachment.Device.MaxSegmentSize / DmaBuffer.PageSize).DefaultIfEmpty(long.MaxValue).Min();
            SegmentPages = Math.Min(limit, Math.Min(SystemHeapExporter.PreferredSegmentSize / DmaBuffer.PageSize, pages));
        }
    }
}

/// <summary>One seeded sequence: random valid operations checked against the model, with random invalid ones in between.</summary>
internal sealed class ModelSequence
{
    private static readonly DmaDataDirection[] Directions = { DmaDataDirection.Bidirectional, DmaDataDirection.ToDevice, DmaDataDirection.FromDevice, DmaDataDirection.None };
    private readonly Random _random;
    private readonly ModelTotals _totals;
    private readonly List<ModelBuffer> _buffers = new();
    private readonly List<DmaBuffer> _released = new();

    public ModelSequence(Random random, ModelTotals totals)
    {
        _random = random;
        _totals = totals;
    }

    private int AtomicHeld => _buffers.Sum(b => b.Mappings.Count(m => m.IsAtomic));

    public void Run(int operations)
    {
        for (int i = 0; i < operations; i++)
        {
            if (_random.Next(8) == 0)
            {
                Invalid();
            }
            else
            {
                Valid();
            }

            Assert.Equal(AtomicHeld, DmaBufValidation.AtomicMappingsHeldByCurrentThread);
            _buffers.ForEach(b => b.AssertAgrees());
        }

        foreach (ModelBuffer model in _buffers.ToArray())
        {
            TearDown(model);
        }

        Assert.Equal(0, DmaBufValidation.AtomicMappingsHeldByCurrentThread);
        _totals.Sequence();
    }

    private T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];

    private void Valid()
    {
        var candidates = new List<Op>();
        bool atomic = AtomicHeld > 0;
        if (!atomic)
        {
            if (_buffers.Count < 3)
            {
                candidates.Add(Op.Export);
            }

            if (_buffers.Count > 0)
            {
                candidates.AddRange(new[] { Op.Fd, Op.Attach, Op.Begin });
            }

            if (_buffers.Any(b => b.Descriptors.Count > 0))
            {
                candidates.AddRange(new[] { Op.Get, Op.CloseFd });
            }

            if (_buffers.Any(b => b.OwnReferences > 0))
            {
                candidates.Add(Op.Put);
            }

            if (_buffers.Any(b => b.Attachments.Any(a => a.Tables.Count == 0)))
            {
                candidates.Add(Op.Detach);
            }

            if (_buffers.Any(b => b.Attachments.Count > 0))
            {
                candidates.Add(Op.Map);
            }

            if (_buffers.Any(b => b.Attachments.Any(a => a.Tables.Count > 0)))
            {
                candidates.AddRange(new[] { Op.Unmap, Op.DeviceWrite, Op.DeviceRead });
            }

            if (_buffers.Any(b => b.Begun.Count > 0 && b.Mappings.Count == 0))
            {
                candidates.Add(Op.End);
            }

            if (_buffers.Any(b => b.Begun.Count > 0))
            {
                candidates.Add(Op.Kmap);
            }
        }

        if (AtomicHeld < 2 && _buffers.Any(b => b.Begun.Count > 0))
        {
            candidates.Add(Op.KmapAtomic);
        }

        if (_buffers.Any(b => b.Mappings.Count > 0))
        {
            candidates.AddRange(new[] { Op.Unmap1, Op.CpuWrite, Op.CpuRead });
        }

        if (candidates.Count == 0)
        {
            return;
        }

        Op op = Pick(candidates);
        _totals.Ran(op);
        switch (op)
        {
            case Op.Export:
                bool coherent = _random.Next(2) == 0;
                DmaBufExporter exporter = coherent ? new SystemHeapExporter() : new NonCoherentExporter();
                long size = (_random.Next(1, 9) * DmaBuffer.PageSize) - (_random.Next(2) == 0 ? 0 : _random.Next(1, 100));
                _buffers.Add(new ModelBuffer(DmaBuffer.Export(exporter, size), exporter, coherent));
                break;
            case Op.Fd:
            {
                ModelBuffer b = Pick(_buffers);
                b.Descriptors.Add(b.Buffer.Fd());
                break;
            }

            case Op.Get:
            {
                ModelBuffer b = Pick(_buffers.Where(x => x.Descriptors.Count > 0).ToList());
                Assert.Same(b.Buffer, DmaBuffer.Get(Pick(b.Descriptors)));
                b.OwnReferences++;
                break;
            }

            case Op.CloseFd:
            {
                ModelBuffer b = Pick(_buffers.Where(x => x.Descriptors.Count > 0).ToList());
                int fd = Pick(b.Descriptors);
                if (b.References == 1)
                {
                    Release(b, () => DmaBuffer.CloseFd(fd));
                }
                else
                {
                    DmaBuffer.CloseFd(fd);
                    b.Descriptors.Remove(fd);
                }

                break;
            }

            case Op.Put:
            {
                ModelBuffer b = Pick(_buffers.Where(x => x.OwnReferences > 0).ToList());
                if (b.References == 1)
                {
                    Release(b, b.Buffer.Put);
                }
                else
                {
                    b.Buffer.Put();
                    b.OwnReferences--;
                }

                break;
            }

            case Op.Attach:
            {
                ModelBuffer b = Pick(_buffers);
                long maxSegmentPages = _random.Next(3) == 0 ? _random.Next(1, 9) : 0;
                var device = maxSegmentPages == 0 ? new Device("device") : new Device("limited") { MaxSegmentSize = maxSegmentPages * DmaBuffer.PageSize };
                bool busy = b.Coherent && b.SegmentPages != 0 && device.MaxSegmentSize / DmaBuffer.PageSize < b.SegmentPages;
                if (busy)
                {
                    var refused = Assert.Throws<DmaBufException>(() => b.Buffer.Attach(device));
                    Assert.Equal(Errno.EBUSY, refused.Errno);
                }
                else
                {
                    b.Attachments.Add((b.Buffer.Attach(device), new List<ScatterGatherTable>()));
                }

                break;
            }

            case Op.Detach:
            {
                ModelBuffer b = Pick(_buffers.Where(x => x.Attachments.Any(a => a.Tables.Count == 0)).ToList());
                var entry = Pick(b.Attachments.Where(a => a.Tables.Count == 0).ToList());
                b.Buffer.Detach(entry.Attachment);
                b.Attachments.Remove(entry);
                Assert.False(entry.Attachment.IsAttached);
                break;
            }

            case Op.Map:
            {
                ModelBuffer b = Pick(_buffers.Where(x => x.Attachments.Count > 0).ToList());
                var entry = Pick(b.Attachments);
                b.Allocated();
                ScatterGatherTable table = b.Buffer.MapAttachment(entry.Attachment, Pick(Directions));
                Assert.Equal(b.Buffer.Size, table.TotalLength);
                Assert.All(table.Entries, e => Assert.True(e.Length <= entry.Attachment.Device.MaxSegmentSize));
                if (b.Coherent)
                {
                    Assert.Equal((b.Buffer.PageCount + b.SegmentPages - 1) / b.SegmentPages, table.Entries.Count);
                }

                entry.Tables.Add(table);
                break;
            }

            case Op.Unmap:
            {
                ModelBuffer b = Pick(_buffers.Where(x => x.Attachments.Any(a => a.Tables.Count > 0)).ToList());
                var entry = Pick(b.Attachments.Where(a => a.Tables.Count > 0).ToList());
                ScatterGatherTable table = Pick(entry.Tables);
                b.Buffer.UnmapAttachment(entry.Attachment, table);
                entry.Tables.Remove(table);
                Assert.False(table.IsMapped);
                break;
            }

            case Op.DeviceWrite:
            case Op.DeviceRead:
            {
                ModelBuffer b = Pick(_buffers.Where(x => x.Attachments.Any(a => a.Tables.Count > 0)).ToList());
                var entry = Pick(b.Attachments.Where(a => a.Tables.Count > 0).ToList());
                ScatterGatherTable table = Pick(entry.Tables);
                long offset = _random.NextInt64(b.Buffer.Size);
                int count = (int)Math.Min(_random.Next(1, 3 * DmaBuffer.PageSize), b.Buffer.Size - offset);
                Device device = entry.Attachment.Device;
                bool write = op == Op.DeviceWrite;
                bool allowed = table.Direction == DmaDataDirection.Bidirectional || table.Direction == (write ? DmaDataDirection.FromDevice : DmaDataDirection.ToDevice);
                if (!allowed)
                {
                    Assert.Throws<ArgumentException>(() => (write ? (Action)(() => device.DmaWrite(table, offset, new byte[count])) : () => device.DmaRead(table, offset, new byte[count]))());
                }
                else if (write)
                {
                    byte[] data = new byte[count];
                    _random.NextBytes(data);
                    device.DmaWrite(table, offset, data);
                    data.CopyTo(b.DeviceBytes, offset);
                }
                else
                {
                    byte[] read = new byte[count];
                    device.DmaRead(table, offset, read);
                    Assert.Equal(b.DeviceBytes.AsSpan((int)offset, count).ToArray(), read);
                }

                break;
            }

            case Op.Begin:
            {
                ModelBuffer b = Pick(_buffers);
                long start = _random.NextInt64(b.Buffer.Size);
                long length = _random.NextInt64(1, b.Buffer.Size - start + 1);
                DmaDataDirection direction = Pick(Directions);
                b.Allocated();
                b.Buffer.BeginCpuAccess(start, length, direction);
                b.Begun.Add(new CpuAccessRange(start, length, direction));
                if (!b.Coherent && direction is DmaDataDirection.FromDevice or DmaDataDirection.Bidirectional)
                {
                    Array.Copy(b.DeviceBytes, start, b.CpuBytes, start, length);
                }

                break;
            }

            case Op.End:
            {
                ModelBuffer b = Pick(_buffers.Where(x => x.Begun.Count > 0 && x.Mappings.Count == 0).ToList());
                CpuAccessRange range = Pick(b.Begun);
                End(b, range);
                break;
            }

            case Op.Kmap:
            case Op.KmapAtomic:
            {
                ModelBuffer b = Pick(_buffers.Where(x => x.Begun.Count > 0).ToList());
                CpuAccessRange range = Pick(b.Begun);
                long page = _random.NextInt64(range.FirstPage, range.LastPage + 1);
                DmaBufPage mapped = op == Op.Kmap ? b.Buffer.Kmap(page) : b.Buffer.KmapAtomic(page);
                Assert.Equal(page, mapped.PageNumber);
                Assert.Equal(op == Op.KmapAtomic, mapped.IsAtomic);
                Assert.Equal(DmaBuffer.PageSize, mapped.Span.Length);
                b.Mappings.Add(mapped);
                break;
            }

            case Op.Unmap1:
            {
                ModelBuffer b = Pick(_buffers.Where(x => x.Mappings.Count > 0).ToList());
                DmaBufPage page = Pick(b.Mappings);
                if (_random.Next(2) == 0)
                {
                    page.Dispose();
                }
                else if (page.IsAtomic)
                {
                    b.Buffer.KunmapAtomic(page.PageNumber, page);
                }
                else
                {
                    b.Buffer.Kunmap(page.PageNumber, page);
                }

                b.Mappings.Remove(page);
                break;
            }

            case Op.CpuWrite:
            case Op.CpuRead:
            {
                ModelBuffer b = Pick(_buffers.Where(x => x.Mappings.Count > 0).ToList());
                DmaBufPage page = Pick(b.Mappings);
                int offset = _random.Next(DmaBuffer.PageSize);
                int count = _random.Next(1, DmaBuffer.PageSize - offset + 1);
                long at = (page.PageNumber * DmaBuffer.PageSize) + offset;
                if (op == Op.CpuWrite)
                {
                    _random.NextBytes(page.Span.Slice(offset, count));
                    page.Span.Slice(offset, count).CopyTo(b.CpuBytes.AsSpan((int)at, count));
                }
                else
                {
                    Assert.True(page.Span.Slice(offset, count).SequenceEqual(b.CpuBytes.AsSpan((int)at, count)));
                }

                break;
            }
        }
    }

    private void End(ModelBuffer b, CpuAccessRange range)
    {
        b.Buffer.EndCpuAccess(range.Start, range.Length, range.Direction);
        b.Begun.Remove(range);
        if (!b.Coherent && range.Direction is DmaDataDirection.ToDevice or DmaDataDirection.Bidirectional)
        {
            Array.Copy(b.CpuBytes, range.Start, b.DeviceBytes, range.Start, range.Length);
        }
    }

    /// <summary>Drops the last reference: only valid once nothing is outstanding, so finish everything first.</summary>
    private void Release(ModelBuffer b, Action drop)
    {
        foreach (DmaBufPage page in b.Mappings.ToArray())
        {
            page.Dispose();
            b.Mappings.Remove(page);
        }

        foreach (CpuAccessRange range in b.Begun.ToArray())
        {
            End(b, range);
        }

        foreach (var entry in b.Attachments.ToArray())
        {
            foreach (ScatterGatherTable table in entry.Tables.ToArray())
            {
                b.Buffer.UnmapAttachment(entry.Attachment, table);
                entry.Tables.Remove(table);
            }

            b.Buffer.Detach(entry.Attachment);
            b.Attachments.Remove(entry);
        }

        drop();
        Assert.True(b.Buffer.IsReleased);
        Assert.Equal(0, b.Buffer.ReferenceCount);
        Assert.Equal(0, b.AllocatedBytes);
        _buffers.Remove(b);
        _released.Add(b.Buffer);
    }

    private void TearDown(ModelBuffer b)
    {
        // Atomic mappings of other buffers would make the blocking calls below invalid: unmap them all first.
        foreach (ModelBuffer other in _buffers)
        {
            foreach (DmaBufPage page in other.Mappings.Where(m => m.IsAtomic).ToArray())
            {
                page.Dispose();
                other.Mappings.Remove(page);
            }
        }

        while (b.Descriptors.Count > 0 && b.References > 1)
        {
            DmaBuffer.CloseFd(b.Descriptors[^1]);
            b.Descriptors.RemoveAt(b.Descriptors.Count - 1);
        }

        while (b.OwnReferences > 0 && b.References > 1)
        {
            b.Buffer.Put();
            b.OwnReferences--;
        }

        if (b.Descriptors.Count == 1)
        {
            int fd = b.Descriptors[0];
            Release(b, () => DmaBuffer.CloseFd(fd));
        }
        else
        {
            Release(b, b.Buffer.Put);
        }
    }

    private void Invalid()
    {
        var candidates = new List<Bad> { Bad.BadDescriptor };
        if (_buffers.Count > 0)
        {
            candidates.AddRange(new[] { Bad.PagePastEnd, Bad.NegativeStart, Bad.PastTheEnd, Bad.OverflowingRange, Bad.UndefinedDirection, Bad.EndNotBegun });
            if (_buffers.Any(b => b.Begun.Count == 0))
            {
                candidates.Add(Bad.KmapNothingBegun);
            }

            if (_buffers.Any(b => b.Begun.Count > 0 && OutsidePage(b) >= 0))
            {
                candidates.Add(Bad.KmapOutside);
            }
        }

        if (AtomicHeld == 2)
        {
            candidates.Add(Bad.ThirdAtomic);
        }

        if (AtomicHeld > 0)
        {
            candidates.Add(Bad.BlockWhileAtomic);
        }

        if (_buffers.Any(b => b.Mappings.Count > 0))
        {
            candidates.Add(Bad.WrongUnmapCall);
        }

        if (_buffers.Any(b => b.Attachments.Any(a => a.Tables.Count > 0)))
        {
            candidates.Add(Bad.DetachWhileMapped);
        }

        if (_released.Count > 0)
        {
            candidates.Add(Bad.UseAfterPut);
        }

        Bad bad = Pick(candidates);
        _totals.Ran(bad);
        ModelBuffer? any = _buffers.Count > 0 ? Pick(_buffers) : null;
        switch (bad)
        {
            case Bad.PagePastEnd:
                Assert.Throws<ArgumentOutOfRangeException>(() => any!.Buffer.KmapAtomic(any.Buffer.PageCount));
                break;
            case Bad.NegativeStart:
                Assert.Throws<ArgumentOutOfRangeException>(() => any!.Buffer.BeginCpuAccess(-1, 1, DmaDataDirection.Bidirectional));
                break;
            case Bad.PastTheEnd:
                Assert.Throws<ArgumentOutOfRangeException>(() => any!.Buffer.BeginCpuAccess(1, any.Buffer.Size, DmaDataDirection.Bidirectional));
                break;
            case Bad.OverflowingRange:
                Assert.Throws<ArgumentOutOfRangeException>(() => any!.Buffer.EndCpuAccess(long.MaxValue, long.MaxValue, DmaDataDirection.Bidirectional));
                break;
            case Bad.UndefinedDirection:
                Assert.Throws<ArgumentOutOfRangeException>(() => any!.Buffer.BeginCpuAccess(0, 1, (DmaDataDirection)(4 + _random.Next(100))));
                break;
            case Bad.EndNotBegun:
                if (AtomicHeld == 0)
                {
                    ModelBuffer b = any!;
                    long start = b.Buffer.Size - 1;
                    if (!b.Begun.Contains(new CpuAccessRange(start, 1, DmaDataDirection.None)))
                    {
                        ExpectRule("DMA0002", () => b.Buffer.EndCpuAccess(start, 1, DmaDataDirection.None));
                    }
                }

                break;
            case Bad.ThirdAtomic:
            {
                ModelBuffer? b = _buffers.FirstOrDefault(x => x.Begun.Count > 0);
                if (b is not null)
                {
                    ExpectRule("DMA0004", () => b.Buffer.KmapAtomic(b.Begun[0].FirstPage));
                }

                break;
            }

            case Bad.KmapOutside:
            {
                ModelBuffer b = Pick(_buffers.Where(x => x.Begun.Count > 0 && OutsidePage(x) >= 0).ToList());
                ExpectRule("DMA0006", () => b.Buffer.KmapAtomic(OutsidePage(b)), atomicFull: AtomicHeld == 2);
                break;
            }

            case Bad.KmapNothingBegun:
            {
                ModelBuffer b = Pick(_buffers.Where(x => x.Begun.Count == 0).ToList());
                ExpectRule("DMA0007", () => b.Buffer.KmapAtomic(0), atomicFull: AtomicHeld == 2);
                break;
            }

            case Bad.WrongUnmapCall:
            {
                ModelBuffer b = Pick(_buffers.Where(x => x.Mappings.Count > 0).ToList());
                DmaBufPage page = Pick(b.Mappings);
                ExpectRule("DMA0003", () =>
                {
                    if (page.IsAtomic)
                    {
                        b.Buffer.Kunmap(page.PageNumber, page);
                    }
                    else
                    {
                        b.Buffer.KunmapAtomic(page.PageNumber, page);
                    }
                });
                break;
            }

            case Bad.DetachWhileMapped:
                if (AtomicHeld == 0)
                {
                    ModelBuffer b = Pick(_buffers.Where(x => x.Attachments.Any(a => a.Tables.Count > 0)).ToList());
                    ExpectRule("DMA0009", () => b.Buffer.Detach(b.Attachments.First(a => a.Tables.Count > 0).Attachment));
                }

                break;
            case Bad.BadDescriptor:
                if (AtomicHeld == 0)
                {
                    Assert.Throws<ArgumentException>(() => DmaBuffer.Get(-1 - _random.Next(1000)));
                }

                break;
            case Bad.BlockWhileAtomic:
            {
                ModelBuffer b = Pick(_buffers);
                ExpectRule("DMA0005", () => b.Buffer.Fd());
                break;
            }

            case Bad.UseAfterPut:
            {
                DmaBuffer released = Pick(_released);
                Assert.Throws<ObjectDisposedException>(() => released.KmapAtomic(0));
                break;
            }
        }
    }

    private static long OutsidePage(ModelBuffer b)
    {
        for (long page = 0; page < b.Buffer.PageCount; page++)
        {
            if (!b.Begun.Any(r => page >= r.FirstPage && page <= r.LastPage))
            {
                return page;
            }
        }

        return -1;
    }

    /// <summary>Expects the validator to refuse with <paramref name="ruleId"/> and nothing in the model to change.</summary>
    private void ExpectRule(string ruleId, Action call, bool atomicFull = false)
    {
        var exception = Assert.Throws<DmaBufUsageException>(call);
        // With two atomic mappings held, a third KmapAtomic is refused as DMA0004 before the page is looked at.
        Assert.Equal(atomicFull ? "DMA0004" : ruleId, exception.RuleId);
    }
}
