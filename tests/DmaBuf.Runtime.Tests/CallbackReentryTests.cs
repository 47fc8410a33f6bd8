// What an exporter's callbacks may call on their own buffer. Attach, Detach, MapDmaBuf, UnmapDmaBuf,
// BeginCpuAccess and EndCpuAccess run under the buffer's lock: from them Fd, Get, a Put that is not the last, kmaps and
// the property getters work (an Fd used to deadlock against another thread's Get); the calls that change what the
// runtime is in the middle of changing are refused with InvalidOperationException.
using System;
using System.Threading;
using static DmaBuf.Runtime.Tests.TestSupport;

namespace DmaBuf.Runtime.Tests;

public class CallbackReentryTests
{
    [Fact]
    public void AnAttachCallbackThatInstallsADescriptorDoesNotDeadlockAgainstAGetOnAnotherThread() =>
        ChildProcess.Run<CallbackReentryTests>(nameof(FdInAttachAgainstGet), validator: true, timeoutSeconds: 60);

    internal static void FdInAttachAgainstGet()
    {
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(1));
        int shared = buffer.Fd();
        exporter.OnAttach = attachment => DmaBuffer.CloseFd(attachment.Buffer.Fd());
        using var stop = new CancellationTokenSource();
        var getter = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                DmaBuffer.Get(shared).Put();
            }
        });
        getter.Start();
        for (int i = 0; i < 2000; i++)
        {
            buffer.Detach(buffer.Attach(new Device("dev")));
        }

        stop.Cancel();
        getter.Join();
        Assert.Equal(2, buffer.ReferenceCount);
        DmaBuffer.CloseFd(shared);
        buffer.Put();
    }

    [Fact]
    public void ACallbackMayTakeAndDropReferencesMapPagesAndReadTheBuffer()
    {
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));
        buffer.BeginCpuAccess(0, Pages(2), DmaDataDirection.Bidirectional);
        exporter.OnAttach = attachment =>
        {
            DmaBuffer self = attachment.Buffer;
            int fd = self.Fd();
            DmaBuffer.Get(fd).Put();
            DmaBuffer.CloseFd(fd);
            using (DmaBufPage page = self.Kmap(1))
            {
                page.Span[0] = 9;
            }

            Assert.Empty(self.Attachments);
            Assert.Equal(1, self.ReferenceCount);
        };

        buffer.Attach(new Device("dev"));

        Assert.Equal(9, CpuPage(buffer, 1)[0]);
        Assert.Single(buffer.Attachments);
        exporter.OnAttach = null;
        buffer.EndCpuAccess(0, Pages(2), DmaDataDirection.Bidirectional);
        buffer.Detach(buffer.Attachments[0]);
        buffer.Put();
    }

    public static TheoryData<string> RefusedCalls => new()
    {
        "Attach", "Detach", "MapAttachment", "UnmapAttachment", "BeginCpuAccess", "EndCpuAccess", "CpuAccess", "LastPut", "LastCloseFd",
    };

    [Theory]
    [MemberData(nameof(RefusedCalls))]
    public void ACallbackThatChangesItsOwnBufferIsRefusedAndChangesNothing(string call)
    {
        var exporter = TrackingExporter.OverSystemHeap();
        DmaBuffer buffer = DmaBuffer.Export(exporter, Pages(2));
        DmaBufAttachment existing = buffer.Attach(new Device("existing"));
        ScatterGatherTable table = buffer.MapAttachment(existing, DmaDataDirection.ToDevice);
        buffer.BeginCpuAccess(0, PageSize, DmaDataDirection.ToDevice);
        int fd = 0;
        if (call == "LastCloseFd")
        {
            fd = buffer.Fd();
            buffer.Put(); // the descriptor holds the last reference now
        }

        Exception? refused = null;
        bool called = false;
        exporter.OnMap = (attachment, direction) =>
        {
            if (called)
            {
                return; // a nested map the runtime should have refused
            }

            called = true;
            BufferState inside = BufferState.Of(buffer);
            Action action = call switch
            {
                "Attach" => () => buffer.Attach(new Device("late")),
                "Detach" => () => buffer.Detach(existing),
                "MapAttachment" => () => buffer.MapAttachment(existing, DmaDataDirection.ToDevice),
                "UnmapAttachment" => () => buffer.UnmapAttachment(existing, table),
                "BeginCpuAccess" => () => buffer.BeginCpuAccess(0, PageSize, DmaDataDirection.FromDevice),
                "EndCpuAccess" => () => buffer.EndCpuAccess(0, PageSize, DmaDataDirection.ToDevice),
                "CpuAccess" => () => buffer.CpuAccess(0, PageSize, DmaDataDirection.FromDevice),
                "LastPut" => buffer.Put,
                "LastCloseFd" => () => DmaBuffer.CloseFd(fd),
                _ => throw new ArgumentOutOfRangeException(nameof(call)),
            };
            refused = Record.Exception(action);
            inside.AssertUnchanged();
        };

        ScatterGatherTable mapped = buffer.MapAttachment(existing, DmaDataDirection.Bidirectional);

        var e = Assert.IsType<InvalidOperationException>(refused);
        Assert.Contains("callback", e.Message, StringComparison.Ordinal);
        Assert.True(mapped.IsMapped);
        exporter.OnMap = null;
        buffer.UnmapAttachment(existing, mapped);
        buffer.UnmapAttachment(existing, table);
        buffer.Detach(existing);
        buffer.EndCpuAccess(0, PageSize, DmaDataDirection.ToDevice);
        if (call == "LastCloseFd")
        {
            DmaBuffer.CloseFd(fd);
        }
        else
        {
            buffer.Put();
        }

        Assert.True(buffer.IsReleased);
    }
}
