// Tests of the DMA0009 fixes: the table unmapped before the Detach or before the way out that leaves it mapped (end of
// the method, early return, throw in a try, switch section), comments kept; none where another path unmaps it, the exit
// uses the table, or the table is not a local of its own.
using System.Threading.Tasks;
using Verify = DmaBuf.CodeFixes.Tests.CodeFixVerifier<DmaBuf.Analyzers.Rules.DmaBufFlowAnalyzer, DmaBuf.CodeFixes.AttachmentMappingFixer>;

namespace DmaBuf.CodeFixes.Tests;

// The buffers are parameters, so that DMA0010 (no reference taken here) stays silent.
public class AttachmentMappingFixerTests
{
    private const string BeforeDetach = AttachmentMappingFixer.UnmapBeforeDetachKey;
    private const string Insert = AttachmentMappingFixer.InsertUnmapKey;

    // ---- DMA0009.UnmapBeforeDetach ----

    [Fact]
    public Task UnmapIsInsertedBeforeTheDetach() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf, Device dev, byte[] data)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        dev.DmaWrite(t, 0, data);
        {|DMA0009:buf.Detach(att)|};
    }"), Verify.Class(@"
    void M(DmaBuffer buf, Device dev, byte[] data)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        dev.DmaWrite(t, 0, data);
        buf.UnmapAttachment(att, t);
        buf.Detach(att);
    }"), BeforeDetach);

    // The assignment form; an embedded Detach becomes a block; the unmap in the other branch cannot run before it.
    [Fact]
    public Task AssignedTableAndEmbeddedDetach() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf, Device dev, bool done)
    {
        var att = buf.Attach(dev);
        ScatterGatherTable t;
        t = buf.MapAttachment(att, DmaDataDirection.FromDevice);
        if (done)
            {|DMA0009:buf.Detach(att)|};
        else
            buf.UnmapAttachment(att, t);
    }"), Verify.Class(@"
    void M(DmaBuffer buf, Device dev, bool done)
    {
        var att = buf.Attach(dev);
        ScatterGatherTable t;
        t = buf.MapAttachment(att, DmaDataDirection.FromDevice);
        if (done)
        {
            buf.UnmapAttachment(att, t);
            buf.Detach(att);
        }
        else
            buf.UnmapAttachment(att, t);
    }"), BeforeDetach);

    [Fact]
    public Task UnmapBeforeDetachKeepsComments() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf, Device dev, byte[] data)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice); // map
        dev.DmaWrite(t, 0, data);
        // done with the device
        {|DMA0009:buf.Detach(/* the one */ att)|}; // detach
    }"), Verify.Class(@"
    void M(DmaBuffer buf, Device dev, byte[] data)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice); // map
        dev.DmaWrite(t, 0, data);
        buf.UnmapAttachment(att, t);
        // done with the device
        buf.Detach(/* the one */ att); // detach
    }"), BeforeDetach);

    // Unmapped on one path already: an unmap before the Detach would unmap that table twice.
    [Fact]
    public Task NoUnmapBeforeDetachWhenUnmappedOnAnotherPath() => Verify.VerifyNoFixAsync(Verify.Class(@"
    void M(DmaBuffer buf, Device dev, bool unmap)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        if (unmap)
            buf.UnmapAttachment(att, t);
        {|DMA0009:buf.Detach(att)|};
    }"), BeforeDetach);

    // ---- DMA0009.InsertUnmap ----

    [Fact]
    public Task UnmapIsInsertedAtTheEnd() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf, Device dev, byte[] data)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        dev.DmaWrite(t, 0, data);
    {|DMA0009:}|}"), Verify.Class(@"
    void M(DmaBuffer buf, Device dev, byte[] data)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        dev.DmaWrite(t, 0, data);
        buf.UnmapAttachment(att, t);
    }"), Insert);

    // An early return that skips the unmap: an embedded return becomes a block.
    [Fact]
    public Task UnmapIsInsertedBeforeAnEarlyReturn() => Verify.VerifyAsync(Verify.Class(@"
    int M(DmaBuffer buf, Device dev, byte[] data)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        if (data.Length == 0)
            {|DMA0009:return -1;|}
        dev.DmaWrite(t, 0, data);
        buf.UnmapAttachment(att, t);
        buf.Detach(att);
        return data.Length;
    }"), Verify.Class(@"
    int M(DmaBuffer buf, Device dev, byte[] data)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        if (data.Length == 0)
        {
            buf.UnmapAttachment(att, t);
            return -1;
        }

        dev.DmaWrite(t, 0, data);
        buf.UnmapAttachment(att, t);
        buf.Detach(att);
        return data.Length;
    }"), Insert);

    // A throw inside a try whose later unmap it skips; the table is used by the condition, not by the throw.
    [Fact]
    public Task UnmapIsInsertedBeforeAThrowInATry() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf, Device dev, byte[] data)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        try
        {
            if (data.Length > t.TotalLength)
            {
                {|DMA0009:throw new ArgumentException(""too long"", nameof(data));|}
            }

            dev.DmaWrite(t, 0, data);
            buf.UnmapAttachment(att, t);
        }
        finally
        {
            Console.WriteLine(dev);
        }
    }"), Verify.Class(@"
    void M(DmaBuffer buf, Device dev, byte[] data)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        try
        {
            if (data.Length > t.TotalLength)
            {
                buf.UnmapAttachment(att, t);
                throw new ArgumentException(""too long"", nameof(data));
            }

            dev.DmaWrite(t, 0, data);
            buf.UnmapAttachment(att, t);
        }
        finally
        {
            Console.WriteLine(dev);
        }
    }"), Insert);

    // The assignment form, in a switch section.
    [Fact]
    public Task UnmapIsInsertedInASwitchSection() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf, Device dev, int mode)
    {
        var att = buf.Attach(dev);
        ScatterGatherTable t;
        t = buf.MapAttachment(att, DmaDataDirection.Bidirectional);
        switch (mode)
        {
            case 0:
                buf.UnmapAttachment(att, t);
                break;
            case 1:
                {|DMA0009:return;|}
            default:
                buf.UnmapAttachment(att, t);
                break;
        }
    }"), Verify.Class(@"
    void M(DmaBuffer buf, Device dev, int mode)
    {
        var att = buf.Attach(dev);
        ScatterGatherTable t;
        t = buf.MapAttachment(att, DmaDataDirection.Bidirectional);
        switch (mode)
        {
            case 0:
                buf.UnmapAttachment(att, t);
                break;
            case 1:
                buf.UnmapAttachment(att, t);
                return;
            default:
                buf.UnmapAttachment(att, t);
                break;
        }
    }"), Insert);

    // Two ways out of one method and a second method: each diagnostic gets its own unmap, in one Fix All pass.
    [Fact]
    public Task FixAllUnmapsAtEveryWayOut() => Verify.VerifyAsync(Verify.Class(@"
    int A(DmaBuffer buf, Device dev, byte[] data)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        if (data.Length == 0)
            {|DMA0009:return 0;|}
        dev.DmaWrite(t, 0, data);
        {|DMA0009:return data.Length;|}
    }

    void B(DmaBuffer buf, Device dev, byte[] into)
    {
        var att = buf.Attach(dev);
        var table = buf.MapAttachment(att, DmaDataDirection.FromDevice);
        dev.DmaRead(table, 0, into);
    {|DMA0009:}|}"), Verify.Class(@"
    int A(DmaBuffer buf, Device dev, byte[] data)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        if (data.Length == 0)
        {
            buf.UnmapAttachment(att, t);
            return 0;
        }

        dev.DmaWrite(t, 0, data);
        buf.UnmapAttachment(att, t);
        return data.Length;
    }

    void B(DmaBuffer buf, Device dev, byte[] into)
    {
        var att = buf.Attach(dev);
        var table = buf.MapAttachment(att, DmaDataDirection.FromDevice);
        dev.DmaRead(table, 0, into);
        buf.UnmapAttachment(att, table);
    }"), Insert, iterations: 3);

    [Fact]
    public Task InsertUnmapKeepsComments() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf, Device dev, byte[] data)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        // nothing to write?
        if (data.Length == 0)
            {|DMA0009:return;|} // then leave
        dev.DmaWrite(t, 0, data); // write it
        // done
    {|DMA0009:}|}"), Verify.Class(@"
    void M(DmaBuffer buf, Device dev, byte[] data)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        // nothing to write?
        if (data.Length == 0)
        {
            buf.UnmapAttachment(att, t);
            return; // then leave
        }

        dev.DmaWrite(t, 0, data); // write it
        buf.UnmapAttachment(att, t);
        // done
    }"), Insert, iterations: 2);

    // The return uses the table: unmapping it first would change what it reads.
    [Fact]
    public Task NoInsertWhenTheExitUsesTheTable() => Verify.VerifyNoFixAsync(Verify.Class(@"
    long M(DmaBuffer buf, Device dev, byte[] data)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        dev.DmaWrite(t, 0, data);
        {|DMA0009:return t.TotalLength;|}
    }"), Insert);

    // The finally block that runs after the return reads the table: it must still be mapped there.
    [Fact]
    public Task NoInsertWhenAFinallyBlockAfterTheExitUsesTheTable() => Verify.VerifyNoFixAsync(Verify.Class(@"
    void M(DmaBuffer buf, Device dev, byte[] data)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        try
        {
            if (data.Length == 0)
                {|DMA0009:return;|}
            dev.DmaWrite(t, 0, data);
            buf.UnmapAttachment(att, t);
        }
        finally
        {
            Console.WriteLine(t.TotalLength);
        }
    }"), Insert);

    // Unmapped on one branch: an unmap at the end would unmap that table twice.
    [Fact]
    public Task NoInsertWhenUnmappedOnOneBranch() => Verify.VerifyNoFixAsync(Verify.Class(@"
    void M(DmaBuffer buf, Device dev, bool done)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        if (done)
        {
            buf.UnmapAttachment(att, t);
        }
    {|DMA0009:}|}"), Insert);

    // The table's local is not in scope at the end of the method.
    [Fact]
    public Task NoInsertWhenTheTableIsOutOfScope() => Verify.VerifyNoFixAsync(Verify.Class(@"
    void M(DmaBuffer buf, Device dev, int n)
    {
        var att = buf.Attach(dev);
        for (int i = 0; i < n; i++)
        {
            var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
            dev.DmaWrite(t, 0, new byte[16]);
        }
    {|DMA0009:}|}"), Insert);

    // The table is copied into another local: not the local the fix would unmap through.
    [Fact]
    public Task NoInsertWhenTheTableIsNotInALocalOfItsOwn() => Verify.VerifyNoFixAsync(Verify.Class(@"
    void M(DmaBuffer buf, Device dev, byte[] data)
    {
        var att = buf.Attach(dev);
        var t = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        var copy = t;
        dev.DmaWrite(copy, 0, data);
    {|DMA0009:}|}"), Insert);

    // ---- DMA0009, OtherTable: no fix ----

    [Fact]
    public Task NoFixForAnUnmapThroughAnotherAttachment() => Verify.VerifyNoFixAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        var a1 = buf.Attach(new Device(""gpu""));
        var a2 = buf.Attach(new Device(""isp""));
        var t1 = buf.MapAttachment(a1, DmaDataDirection.ToDevice);
        {|DMA0009:buf.UnmapAttachment(a2, t1)|};
        buf.Detach(a1);
        buf.Detach(a2);
    }"), Insert);
}
