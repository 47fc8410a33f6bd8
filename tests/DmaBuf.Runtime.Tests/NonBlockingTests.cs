// The calls documented as never blocking (KmapAtomic, KunmapAtomic, Kunmap) do not wait for the buffer's lock: they
// complete while another thread's BeginCpuAccess holds it for as long as its exporter takes.
using System;
using System.Threading;
using static DmaBuf.Runtime.Tests.TestSupport;

namespace DmaBuf.Runtime.Tests;

public class NonBlockingTests
{
    [Theory]
    [MemberData(nameof(ValidatorModes.OffAndOn), MemberType = typeof(ValidatorModes))]
    public void AtomicMapsAndUnmapsCompleteWhileABeginHoldsTheBuffer(bool validator)
    {
        if (validator)
        {
            WhileABeginHoldsTheBuffer();
        }
        else
        {
            ChildProcess.Run<NonBlockingTests>(nameof(WhileABeginHoldsTheBuffer), validator: false);
        }
    }

    internal static void WhileABeginHoldsTheBuffer()
    {
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(4));
        buffer.BeginCpuAccess(0, Pages(4), DmaDataDirection.Bidirectional);
        DmaBufPage plain = buffer.Kmap(0);
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        using var done = new ManualResetEventSlim();
        exporter.OnBeginCpuAccess = (start, length, direction) =>
        {
            entered.Set();
            release.Wait();
        };
        var begin = new Thread(() => buffer.BeginCpuAccess(0, PageSize, DmaDataDirection.ToDevice));
        begin.Start();
        entered.Wait();
        Exception? failure = null;
        var worker = new Thread(() =>
        {
            try
            {
                // While holding an atomic mapping, as the code that first showed the wait did.
                DmaBufPage atomic = buffer.KmapAtomic(1);
                atomic.Span[0] = 1;
                buffer.Kunmap(0, plain);
                DmaBufPage second = buffer.KmapAtomic(2);
                buffer.KunmapAtomic(2, second);
                buffer.KunmapAtomic(1, atomic);
            }
            catch (Exception e)
            {
                failure = e;
            }

            done.Set();
        });
        worker.Start();

        bool completed = done.Wait(TimeSpan.FromSeconds(30));

        release.Set();
        begin.Join();
        worker.Join();
        Assert.True(completed, "KmapAtomic, KunmapAtomic and Kunmap waited for the BeginCpuAccess of another thread");
        Assert.Null(failure);
        Assert.Equal(0, buffer.MappedPageCount);
        exporter.OnBeginCpuAccess = null;
        buffer.EndCpuAccess(0, PageSize, DmaDataDirection.ToDevice);
        buffer.EndCpuAccess(0, Pages(4), DmaDataDirection.Bidirectional);
        buffer.Put();
    }
}
