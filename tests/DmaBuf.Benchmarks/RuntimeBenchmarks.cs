// What the runtime's hot paths cost: copying a 64 MiB buffer page by page through kmaps against one copy, a map/unmap
// or begin/end pair with the validator off and on, and non-coherent begin/end by the size of the range.
using System;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;

namespace DmaBuf.Benchmarks;

// The runtime's fast paths: page-wise copies against one Buffer.MemoryCopy, the map/unmap pairs with the validator off
// and on, and the non-coherent exporter's begin/end cost by range.

/// <summary>
/// Page-wise copy of a 64 MiB buffer through the spans of KmapAtomic and Kmap pages against Buffer.MemoryCopy of the
/// same memory, and against a page-wise copy with no kmap (what copying 4 KiB at a time costs by itself).
/// </summary>
[MemoryDiagnoser]
public unsafe class PageCopyBenchmarks
{
    private const long Size = 64L << 20;
    private DmaBuffer _buffer = null!;
    private DmaBufAttachment _attachment = null!;
    private ScatterGatherTable _table = null!;
    private byte[] _destination = null!;

    /// <summary>Exports and maps the buffer once.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _buffer = DmaBuffer.Export(new SystemHeapExporter(), Size);
        _attachment = _buffer.Attach(new Device("bench"));
        _table = _buffer.MapAttachment(_attachment, DmaDataDirection.Bidirectional);
        _buffer.BeginCpuAccess(0, Size, DmaDataDirection.FromDevice);
        _destination = GC.AllocateUninitializedArray<byte>((int)Size, pinned: true);

        // Write every page once: fresh page memory is the operating system's shared zero page until written, and
        // copying from that measures the cache, not the memory.
        for (long p = 0; p < _buffer.PageCount; p++)
        {
            using DmaBufPage page = _buffer.Kmap(p);
            page.Span.Fill((byte)p);
        }

        _destination.AsSpan().Fill(1);
    }

    /// <summary>Releases the buffer.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _buffer.EndCpuAccess(0, Size, DmaDataDirection.FromDevice);
        _buffer.UnmapAttachment(_attachment, _table);
        _buffer.Detach(_attachment);
        _buffer.Put();
    }

    /// <summary>The baseline: Buffer.MemoryCopy over the buffer's segments.</summary>
    [Benchmark(Baseline = true)]
    public void MemoryCopySegments()
    {
        fixed (byte* destination = _destination)
        {
            long offset = 0;
            foreach (ScatterGatherEntry entry in _table.Entries)
            {
                Buffer.MemoryCopy((void*)entry.DmaAddress, destination + offset, Size - offset, entry.Length);
                offset += entry.Length;
            }
        }
    }

    /// <summary>The same copy page by page with no kmap at all (Buffer.MemoryCopy of each 4 KiB of the segments): what page-wise copying itself costs.</summary>
    [Benchmark]
    public void RawPageCopy()
    {
        fixed (byte* destination = _destination)
        {
            long offset = 0;
            foreach (ScatterGatherEntry entry in _table.Entries)
            {
                for (long within = 0; within < entry.Length; within += DmaBuffer.PageSize)
                {
                    Buffer.MemoryCopy((void*)(entry.DmaAddress + (ulong)within), destination + offset, DmaBuffer.PageSize, DmaBuffer.PageSize);
                    offset += DmaBuffer.PageSize;
                }
            }
        }
    }

    /// <summary>The same copy, page by page through KmapAtomic and KunmapAtomic.</summary>
    [Benchmark]
    public void KmapAtomicPageCopy()
    {
        Span<byte> destination = _destination;
        long pages = _buffer.PageCount;
        for (long p = 0; p < pages; p++)
        {
            DmaBufPage page = _buffer.KmapAtomic(p);
            page.Span.CopyTo(destination.Slice((int)(p * DmaBuffer.PageSize), DmaBuffer.PageSize));
            _buffer.KunmapAtomic(p, page);
        }
    }

    /// <summary>The same copy, page by page through Kmap and Kunmap.</summary>
    [Benchmark]
    public void KmapPageCopy()
    {
        Span<byte> destination = _destination;
        long pages = _buffer.PageCount;
        for (long p = 0; p < pages; p++)
        {
            DmaBufPage page = _buffer.Kmap(p);
            page.Span.CopyTo(destination.Slice((int)(p * DmaBuffer.PageSize), DmaBuffer.PageSize));
            _buffer.Kunmap(p, page);
        }
    }
}

/// <summary>The cost of one KmapAtomic + KunmapAtomic pair and one Kmap + Kunmap pair, with the validator off and on.</summary>
[Config(typeof(ValidatorOffAndOn))]
public class KmapPairBenchmarks
{
    private DmaBuffer _buffer = null!;

    /// <summary>Exports a small buffer and begins CPU access over it.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _buffer = DmaBuffer.Export(new SystemHeapExporter(), 16 * DmaBuffer.PageSize);
        _buffer.BeginCpuAccess(0, _buffer.Size, DmaDataDirection.Bidirectional);
    }

    /// <summary>Ends the access and releases the buffer.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _buffer.EndCpuAccess(0, _buffer.Size, DmaDataDirection.Bidirectional);
        _buffer.Put();
    }

    /// <summary>One atomic map and unmap of page 3.</summary>
    /// <returns>The page's address, so the work is not eliminated.</returns>
    [Benchmark]
    public nint KmapAtomicPair()
    {
        DmaBufPage page = _buffer.KmapAtomic(3);
        _buffer.KunmapAtomic(3, page);
        return page.Address;
    }

    /// <summary>One plain map and unmap of page 3.</summary>
    /// <returns>The page's address, so the work is not eliminated.</returns>
    [Benchmark]
    public nint KmapPair()
    {
        DmaBufPage page = _buffer.Kmap(3);
        _buffer.Kunmap(3, page);
        return page.Address;
    }

    /// <summary>One BeginCpuAccess + EndCpuAccess pair over one page.</summary>
    [Benchmark]
    public void BeginEndPair()
    {
        _buffer.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        _buffer.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
    }

    private sealed class ValidatorOffAndOn : ManualConfig
    {
        public ValidatorOffAndOn()
        {
            AddJob(Job.Default.WithId("validator-off"));
            AddJob(Job.Default.WithEnvironmentVariables(new EnvironmentVariable(DmaBufValidation.EnvironmentVariableName, "1")).WithId("validator-on"));
        }
    }
}

/// <summary>NonCoherentExporter's begin/end cost grows with the begun range, not with the buffer (64 MiB).</summary>
public class NonCoherentRangeBenchmarks
{
    private const long Size = 64L << 20;
    private DmaBuffer _buffer = null!;

    /// <summary>The begun range in bytes.</summary>
    [Params(4L << 10, 1L << 20, 64L << 20)]
    public long Range { get; set; }

    /// <summary>Exports the buffer and allocates its memory.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _buffer = DmaBuffer.Export(new NonCoherentExporter(), Size);
        _buffer.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.None);
        _buffer.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.None);
    }

    /// <summary>Releases the buffer.</summary>
    [GlobalCleanup]
    public void Cleanup() => _buffer.Put();

    /// <summary>Begin and end a bidirectional access of <see cref="Range"/> bytes.</summary>
    [Benchmark]
    public void BeginEndBidirectional()
    {
        _buffer.BeginCpuAccess(0, Range, DmaDataDirection.Bidirectional);
        _buffer.EndCpuAccess(0, Range, DmaDataDirection.Bidirectional);
    }
}
