// Helpers shared by the runtime tests: threads of their own, byte patterns, device and CPU views of a buffer, a
// snapshot of everything a failed call must leave unchanged, and an exporter that counts (and can fail) its callbacks.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace DmaBuf.Runtime.Tests;

/// <summary>Small helpers shared by the test classes.</summary>
internal static class TestSupport
{
    public const int PageSize = DmaBuffer.PageSize;

    public static long Pages(long count) => count * PageSize;

    /// <summary>
    /// Runs <paramref name="body"/> on a new thread and rethrows what it threw. The validator keeps per-thread
    /// state (atomic mappings held); a test that holds atomic mappings runs isolated so that a failing assertion
    /// cannot leave mappings held on a thread that other tests reuse.
    /// </summary>
    public static void OnOwnThread(Action body)
    {
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                body();
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        });
        thread.Start();
        thread.Join();
        failure?.Throw();
    }

    /// <summary>Runs <paramref name="body"/> on a new thread and returns what it returned (or rethrows what it threw).</summary>
    public static T OnOwnThread<T>(Func<T> body)
    {
        T result = default!;
        OnOwnThread(() => { result = body(); });
        return result;
    }

    /// <summary>Runs <paramref name="round"/> with round numbers 0, 1, ... until <paramref name="duration"/> has passed; prints how many ran, with <paramref name="totals"/>.</summary>
    public static int RunRounds(TimeSpan duration, Action<int> round, Func<string> totals)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int rounds = 0;
        while (clock.Elapsed < duration)
        {
            round(rounds++);
        }

        Console.WriteLine($"{rounds} rounds in {clock.Elapsed.TotalSeconds:F1} s: {totals()}");
        return rounds;
    }

    /// <summary>Fills <paramref name="bytes"/> with a pattern that differs per position and per <paramref name="seed"/>, never 0.</summary>
    public static byte[] Pattern(long length, int seed)
    {
        var bytes = new byte[length];
        for (long i = 0; i < length; i++)
        {
            bytes[i] = (byte)(((i * 31) + (seed * 7) + (i / PageSize)) % 255 + 1);
        }

        return bytes;
    }

    /// <summary>Reads the whole buffer through a fresh attachment of a reading device (maps ToDevice, DmaRead, unmaps, detaches).</summary>
    public static byte[] DeviceView(DmaBuffer buffer)
    {
        var reader = new Device("reader");
        DmaBufAttachment attachment = buffer.Attach(reader);
        ScatterGatherTable table = buffer.MapAttachment(attachment, DmaDataDirection.ToDevice);
        var bytes = new byte[buffer.Size];
        reader.DmaRead(table, 0, bytes);
        buffer.UnmapAttachment(attachment, table);
        buffer.Detach(attachment);
        return bytes;
    }

    /// <summary>Writes <paramref name="bytes"/> at <paramref name="offset"/> through a fresh attachment of a writing device.</summary>
    public static void DeviceWrite(DmaBuffer buffer, long offset, byte[] bytes)
    {
        var writer = new Device("writer");
        DmaBufAttachment attachment = buffer.Attach(writer);
        ScatterGatherTable table = buffer.MapAttachment(attachment, DmaDataDirection.FromDevice);
        writer.DmaWrite(table, offset, bytes);
        buffer.UnmapAttachment(attachment, table);
        buffer.Detach(attachment);
    }

    /// <summary>Copies one page as the CPU sees it, through a plain kmap (a CPU access covering the page must be begun).</summary>
    public static byte[] CpuPage(DmaBuffer buffer, long pageNumber)
    {
        DmaBufPage page = buffer.Kmap(pageNumber);
        byte[] copy = page.Span.ToArray();
        buffer.Kunmap(pageNumber, page);
        return copy;
    }

    /// <summary>The address in the device's view of byte <paramref name="offset"/> of a table, found by walking its entries.</summary>
    public static nint AddressOf(ScatterGatherTable table, long offset)
    {
        long position = 0;
        foreach (ScatterGatherEntry entry in table.Entries)
        {
            if (offset < position + entry.Length)
            {
                return (nint)(long)(entry.DmaAddress + (ulong)(offset - position));
            }

            position += entry.Length;
        }

        throw new ArgumentOutOfRangeException(nameof(offset));
    }
}

/// <summary>
/// Everything a failed call must leave as it was: counts, begun ranges, attachments and their tables, and the
/// calling thread's atomic mappings. Take one before a call that should fail and compare after it.
/// </summary>
internal sealed class BufferState
{
    private readonly DmaBuffer _buffer;

    private BufferState(DmaBuffer buffer)
    {
        _buffer = buffer;
        ReferenceCount = buffer.ReferenceCount;
        IsReleased = buffer.IsReleased;
        MappedTableCount = buffer.MappedTableCount;
        MappedPageCount = buffer.MappedPageCount;
        VmapCount = buffer.VmapCount;
        Begun = buffer.BegunCpuAccesses.ToArray();
        Attachments = buffer.Attachments.ToArray();
        AttachmentTables = Attachments.Select(a => a.MappedTableCount).ToArray();
        AtomicHeld = DmaBufValidation.AtomicMappingsHeldByCurrentThread;
        ExporterBuffer = buffer.Exporter.Buffer;
    }

    public int ReferenceCount { get; }

    public bool IsReleased { get; }

    public int MappedTableCount { get; }

    public long MappedPageCount { get; }

    public int VmapCount { get; }

    public CpuAccessRange[] Begun { get; }

    public DmaBufAttachment[] Attachments { get; }

    public int[] AttachmentTables { get; }

    public int AtomicHeld { get; }

    public DmaBuffer? ExporterBuffer { get; }

    public static BufferState Of(DmaBuffer buffer) => new(buffer);

    /// <summary>Asserts that the buffer is exactly as it was when this snapshot was taken.</summary>
    public void AssertUnchanged()
    {
        var now = new BufferState(_buffer);
        Assert.Equal(ReferenceCount, now.ReferenceCount);
        Assert.Equal(IsReleased, now.IsReleased);
        Assert.Equal(MappedTableCount, now.MappedTableCount);
        Assert.Equal(MappedPageCount, now.MappedPageCount);
        Assert.Equal(VmapCount, now.VmapCount);
        Assert.Equal(Begun, now.Begun);
        Assert.Equal(Attachments, now.Attachments);
        Assert.Equal(AttachmentTables, now.AttachmentTables);
        Assert.All(now.Attachments, a => Assert.True(a.IsAttached));
        Assert.Equal(AtomicHeld, now.AtomicHeld);
        Assert.Same(ExporterBuffer, now.ExporterBuffer);
    }
}

/// <summary>
/// An exporter that delegates to one of the shipped exporters and counts every callback the runtime makes, so
/// tests can see that release runs exactly once and that each unmap reaches the matching callback. Hooks run
/// before the delegated callback and may throw to model an exporter's failure.
/// </summary>
internal sealed class TrackingExporter : DmaBufExporter
{
    private readonly DmaBufExporter _inner;
    private int _attach;
    private int _detach;
    private int _map;
    private int _unmap;
    private int _release;
    private int _begin;
    private int _end;
    private int _kmap;
    private int _kunmap;
    private int _kmapAtomic;
    private int _kunmapAtomic;
    private int _vmap;
    private int _vunmap;

    public TrackingExporter(DmaBufExporter inner)
    {
        _inner = inner;
    }

    public static TrackingExporter OverSystemHeap() => new(new SystemHeapExporter());

    public static TrackingExporter OverNonCoherent() => new(new NonCoherentExporter());

    public DmaBufExporter Inner => _inner;

    public long AllocatedBytes => _inner switch
    {
        SystemHeapExporter heap => heap.AllocatedBytes,
        NonCoherentExporter cache => cache.AllocatedBytes,
        _ => throw new InvalidOperationException("Unknown inner exporter."),
    };

    public int AttachCalls => Volatile.Read(ref _attach);

    public int DetachCalls => Volatile.Read(ref _detach);

    public int MapCalls => Volatile.Read(ref _map);

    public int UnmapCalls => Volatile.Read(ref _unmap);

    public int ReleaseCalls => Volatile.Read(ref _release);

    public int BeginCalls => Volatile.Read(ref _begin);

    public int EndCalls => Volatile.Read(ref _end);

    public int KmapCalls => Volatile.Read(ref _kmap);

    public int KunmapCalls => Volatile.Read(ref _kunmap);

    public int KmapAtomicCalls => Volatile.Read(ref _kmapAtomic);

    public int KunmapAtomicCalls => Volatile.Read(ref _kunmapAtomic);

    public int VmapCalls => Volatile.Read(ref _vmap);

    public int VunmapCalls => Volatile.Read(ref _vunmap);

    /// <summary>When set, the exporter has no vmap op: it leaves Vmap to the base class, as an exporter that does not override it.</summary>
    public bool WithoutVmap { get; set; }

    public Action? OnVmap { get; set; }

    public Action? OnVunmap { get; set; }

    public nint LastVmapAddress { get; private set; }

    public nint LastVunmapAddress { get; private set; }

    public DmaBuffer? ReleasedBuffer { get; private set; }

    public List<(long Start, long Length, DmaDataDirection Direction)> EndArguments { get; } = new();

    public (long PageNumber, nint Address) LastKunmap { get; private set; }

    public (long PageNumber, nint Address) LastKunmapAtomic { get; private set; }

    public Action<DmaBufAttachment>? OnAttach { get; set; }

    public Action<DmaBufAttachment>? OnDetach { get; set; }

    public Action<ScatterGatherTable>? OnUnmap { get; set; }

    public Action? OnRelease { get; set; }

    /// <summary>When set, MapDmaBuf returns this instead of a new table from the inner exporter (after counting the map).</summary>
    public Func<ScatterGatherTable>? MapResult { get; set; }

    public Action<DmaBufAttachment, DmaDataDirection>? OnMap { get; set; }

    public bool MapReturnsNull { get; set; }

    public Action<long, long, DmaDataDirection>? OnBeginCpuAccess { get; set; }

    public Action<long>? OnKmap { get; set; }

    public Action<long>? OnKunmap { get; set; }

    public Action<long>? OnKmapAtomic { get; set; }

    public Action<long>? OnKunmapAtomic { get; set; }

    protected internal override void Attach(DmaBufAttachment attachment)
    {
        OnAttach?.Invoke(attachment);
        _inner.Attach(attachment);
        Interlocked.Increment(ref _attach);
    }

    protected internal override void Detach(DmaBufAttachment attachment)
    {
        OnDetach?.Invoke(attachment);
        _inner.Detach(attachment);
        Interlocked.Increment(ref _detach);
    }

    protected internal override ScatterGatherTable MapDmaBuf(DmaBufAttachment attachment, DmaDataDirection direction)
    {
        OnMap?.Invoke(attachment, direction);
        if (MapReturnsNull)
        {
            return null!;
        }

        ScatterGatherTable table = MapResult?.Invoke() ?? _inner.MapDmaBuf(attachment, direction);
        Interlocked.Increment(ref _map);
        return table;
    }

    protected internal override void UnmapDmaBuf(DmaBufAttachment attachment, ScatterGatherTable table)
    {
        OnUnmap?.Invoke(table);
        _inner.UnmapDmaBuf(attachment, table);
        Interlocked.Increment(ref _unmap);
    }

    protected internal override void Release(DmaBuffer buffer)
    {
        Interlocked.Increment(ref _release);
        ReleasedBuffer = buffer;
        _inner.Release(buffer);
        OnRelease?.Invoke();
    }

    protected internal override void BeginCpuAccess(DmaBuffer buffer, long start, long length, DmaDataDirection direction)
    {
        OnBeginCpuAccess?.Invoke(start, length, direction);
        _inner.BeginCpuAccess(buffer, start, length, direction);
        Interlocked.Increment(ref _begin);
    }

    protected internal override void EndCpuAccess(DmaBuffer buffer, long start, long length, DmaDataDirection direction)
    {
        _inner.EndCpuAccess(buffer, start, length, direction);
        lock (EndArguments)
        {
            EndArguments.Add((start, length, direction));
        }

        Interlocked.Increment(ref _end);
    }

    protected internal override nint Vmap(DmaBuffer buffer) => MapBuffer(buffer).Address;

    // The runtime's vmap: the inner exporter's pinned view, so that spans keep its memory alive as with a shipped exporter.
    internal override PageLocation MapBuffer(DmaBuffer buffer)
    {
        if (WithoutVmap)
        {
            return new PageLocation(base.Vmap(buffer), null, 0);
        }

        OnVmap?.Invoke();
        PageLocation view = _inner.MapBuffer(buffer);
        LastVmapAddress = view.Address;
        Interlocked.Increment(ref _vmap);
        return view;
    }

    protected internal override void Vunmap(DmaBuffer buffer, nint address)
    {
        OnVunmap?.Invoke();
        _inner.Vunmap(buffer, address);
        LastVunmapAddress = address;
        Interlocked.Increment(ref _vunmap);
    }

    protected internal override nint Kmap(DmaBuffer buffer, long pageNumber)
    {
        OnKmap?.Invoke(pageNumber);
        nint address = _inner.Kmap(buffer, pageNumber);
        Interlocked.Increment(ref _kmap);
        return address;
    }

    protected internal override void Kunmap(DmaBuffer buffer, long pageNumber, nint address)
    {
        OnKunmap?.Invoke(pageNumber);
        _inner.Kunmap(buffer, pageNumber, address);
        LastKunmap = (pageNumber, address);
        Interlocked.Increment(ref _kunmap);
    }

    protected internal override nint KmapAtomic(DmaBuffer buffer, long pageNumber)
    {
        OnKmapAtomic?.Invoke(pageNumber);
        nint address = _inner.KmapAtomic(buffer, pageNumber);
        Interlocked.Increment(ref _kmapAtomic);
        return address;
    }

    protected internal override void KunmapAtomic(DmaBuffer buffer, long pageNumber, nint address)
    {
        OnKunmapAtomic?.Invoke(pageNumber);
        _inner.KunmapAtomic(buffer, pageNumber, address);
        LastKunmapAtomic = (pageNumber, address);
        Interlocked.Increment(ref _kunmapAtomic);
    }
}
