// Tests of "Read 'field' with Volatile.Read instead of locking" (DMA0008.VolatileRead): an atomic kmap callback whose
// lock guards one read of one field reads it with Volatile.Read; not offered where the lock guards more than that read,
// or where a locked section writes the field twice (a lone read could see the value in between).
using System.Threading.Tasks;
using Verify = DmaBuf.CodeFixes.Tests.CodeFixVerifier<DmaBuf.Analyzers.Rules.ExporterAtomicCallbackAnalyzer, DmaBuf.CodeFixes.LockedFieldReadFixer>;

namespace DmaBuf.CodeFixes.Tests;

public class LockedFieldReadFixerTests
{
    private const string Key = LockedFieldReadFixer.VolatileReadKey;

    private const string Rest = @"
    protected override nint Kmap(DmaBuffer buffer, long pageNumber)
    {
        lock (_gate)
            return _memory + (nint)(pageNumber * DmaBuffer.PageSize);
    }

    protected override ScatterGatherTable MapDmaBuf(DmaBufAttachment attachment, DmaDataDirection direction) =>
        new(new[] { new ScatterGatherEntry((ulong)_memory, attachment.Buffer.Size) });

    protected override void UnmapDmaBuf(DmaBufAttachment attachment, ScatterGatherTable table)
    {
    }

    protected override void Release(DmaBuffer buffer)
    {
    }
}
";

    [Fact]
    public Task TheLockedReadBecomesAVolatileReadAndTheImportIsAdded() => Verify.VerifyAsync(@"using DmaBuf;

sealed class Pages : DmaBufExporter
{
    private readonly object _gate = new();
    private nint _memory;

    protected override void BeginCpuAccess(DmaBuffer buffer, long start, long length, DmaDataDirection direction)
    {
        lock (_gate)
        {
            if (_memory == 0)
                _memory = 4096;
        }
    }

    protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber)
    {
        // the pages are resident
        {|DMA0008:lock|} (_gate) // one word
        {
            return _memory + (nint)(pageNumber * DmaBuffer.PageSize);
        }
    }
" + Rest, @"using System.Threading;
using DmaBuf;

sealed class Pages : DmaBufExporter
{
    private readonly object _gate = new();
    private nint _memory;

    protected override void BeginCpuAccess(DmaBuffer buffer, long start, long length, DmaDataDirection direction)
    {
        lock (_gate)
        {
            if (_memory == 0)
                _memory = 4096;
        }
    }

    protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber)
    {
        // the pages are resident
        return Volatile.Read(ref _memory) + (nint)(pageNumber * DmaBuffer.PageSize); // one word
    }
" + Rest, Key);

    // The section that sets the field writes it twice: outside the lock a read could see the first value.
    [Fact]
    public Task NoFixWhenALockedSectionWritesTheFieldTwice() => Verify.VerifyNoFixAsync(@"using DmaBuf;

sealed class Pages : DmaBufExporter
{
    private readonly object _gate = new();
    private nint _memory;

    protected override void BeginCpuAccess(DmaBuffer buffer, long start, long length, DmaDataDirection direction)
    {
        lock (_gate)
        {
            _memory = 1;
            _memory = 4096;
        }
    }

    protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber)
    {
        {|DMA0008:lock|} (_gate)
        {
            return _memory + (nint)(pageNumber * DmaBuffer.PageSize);
        }
    }
" + Rest, Key);

    // Two fields read under the lock are read together; apart they could come from two writers.
    [Fact]
    public Task NoFixWhenTheLockGuardsTwoFields() => Verify.VerifyNoFixAsync(@"using DmaBuf;

sealed class Pages : DmaBufExporter
{
    private readonly object _gate = new();
    private nint _memory;
    private long _offset;

    protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber)
    {
        {|DMA0008:lock|} (_gate)
        {
            return _memory + (nint)(_offset + pageNumber * DmaBuffer.PageSize);
        }
    }
" + Rest, Key);
}
