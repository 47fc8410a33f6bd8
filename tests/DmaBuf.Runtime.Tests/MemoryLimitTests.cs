// Sizes the machine cannot back: the shipped exporters refuse an allocation larger than the memory
// the process may use with DmaBufException(ENOMEM), before touching any of it, and a fresh allocation is not zeroed
// page by page again. Both run in a child process: one under a GC heap limit, one that measures its own working set.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using static DmaBuf.Runtime.Tests.TestSupport;

namespace DmaBuf.Runtime.Tests;

public class MemoryLimitTests
{
    private static readonly Dictionary<string, string> Limit256MiB = new() { ["DOTNET_GCHeapHardLimit"] = "0x10000000" };

    [Theory]
    [MemberData(nameof(ValidatorModes.OffAndOn), MemberType = typeof(ValidatorModes))]
    public void ABufferLargerThanTheProcessMayUseIsEnomemAndChangesNothing(bool validator) =>
        ChildProcess.Run<MemoryLimitTests>(nameof(BeyondTheLimit), validator, Limit256MiB);

    [Fact]
    public void AFreshAllocationIsNotTouchedPageByPage() =>
        ChildProcess.Run<MemoryLimitTests>(nameof(FreshMemoryStaysUntouched), validator: false);

    internal static void BeyondTheLimit()
    {
        Assert.Equal(256L << 20, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
        foreach (long size in new[] { 1L << 30, 1L << 40, long.MaxValue - PageSize })
        {
            foreach (Func<DmaBufExporter> make in new Func<DmaBufExporter>[] { () => new SystemHeapExporter(), () => new NonCoherentExporter() })
            {
                DmaBufExporter exporter = make();
                DmaBuffer buffer = DmaBuffer.Export(exporter, size);
                DmaBufAttachment attachment = buffer.Attach(new Device("dev"));
                BufferState before = BufferState.Of(buffer);

                Assert.Equal(Errno.ENOMEM, Assert.Throws<DmaBufException>(() => buffer.BeginCpuAccess(0, PageSize, DmaDataDirection.ToDevice)).Errno);
                Assert.Equal(Errno.ENOMEM, Assert.Throws<DmaBufException>(() => buffer.MapAttachment(attachment, DmaDataDirection.ToDevice)).Errno);
                if (!DmaBufValidation.IsEnabled)
                {
                    Assert.Equal(Errno.ENOMEM, Assert.Throws<DmaBufException>(() => buffer.Kmap(0)).Errno);
                }

                before.AssertUnchanged();
                Assert.Equal(0, DmaBufMemory.BytesInUse);
                buffer.Detach(attachment);
                buffer.Put();
            }
        }

        // What fits still works.
        DmaBuffer small = DmaBuffer.Export(new SystemHeapExporter(), 16L << 20);
        small.BeginCpuAccess(0, small.Size, DmaDataDirection.Bidirectional);
        small.EndCpuAccess(0, small.Size, DmaDataDirection.Bidirectional);
        small.Put();
    }

    internal static void FreshMemoryStaysUntouched()
    {
        const long Size = 512L << 20;
        long before = WorkingSet();
        DmaBuffer buffer = DmaBuffer.Export(new SystemHeapExporter(), Size);
        buffer.BeginCpuAccess(0, PageSize, DmaDataDirection.Bidirectional);

        long grown = WorkingSet() - before;

        Assert.True(grown < Size / 8, $"preparing a fresh {Size >> 20} MiB buffer touched {grown >> 20} MiB");
        DmaBufPage page = buffer.Kmap(0);
        Assert.All(page.Span.ToArray(), b => Assert.Equal(0, b));
        buffer.Kunmap(0, page);
        buffer.EndCpuAccess(0, PageSize, DmaDataDirection.Bidirectional);
        buffer.Put();
    }

    private static long WorkingSet()
    {
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64;
    }
}
