// Tests of "Put the reference in a finally block" (DMA0010): the rest of the block wrapped in try/finally with the
// Put moved into it, for declared, assigned and loop references; none where the local is reassigned, code runs after
// a Put inside, a copy puts it, or the reference is discarded.
using System.Threading.Tasks;
using Verify = DmaBuf.CodeFixes.Tests.CodeFixVerifier<DmaBuf.Analyzers.Rules.DmaBufFlowAnalyzer, DmaBuf.CodeFixes.UnputBufferReferenceFixer>;

namespace DmaBuf.CodeFixes.Tests;

public class UnputBufferReferenceFixerTests
{
    private const string Finally = UnputBufferReferenceFixer.PutInFinallyKey;

    // ---- DMA0010.PutInFinally: fixed ----

    [Fact]
    public Task RestOfTheBlockIsWrappedAndTheLastPutMoves() => Verify.VerifyAsync(Verify.Class(@"
    int M(DmaBufExporter exporter, bool empty)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        if (empty)
        {
            {|DMA0010:return 0;|}
        }

        int fd = b.Fd();
        b.Put();
        return fd;
    }"), Verify.Class(@"
    int M(DmaBufExporter exporter, bool empty)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        try
        {
            if (empty)
            {
                return 0;
            }

            int fd = b.Fd();
            return fd;
        }
        finally
        {
            b.Put();
        }
    }"), Finally);

    [Fact]
    public Task FallingOffTheEndGetsAFinallyBlock() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBufExporter exporter)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        b.Fd();
    {|DMA0010:}|}"), Verify.Class(@"
    void M(DmaBufExporter exporter)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        try
        {
            b.Fd();
        }
        finally
        {
            b.Put();
        }
    }"), Finally);

    // The assignment form; the Put that ended the block moves into the finally block.
    [Fact]
    public Task AssignedReferenceIsPutInTheFinallyBlock() => Verify.VerifyAsync(Verify.Class(@"
    void M(int fd, bool skip)
    {
        DmaBuffer b;
        b = DmaBuffer.Get(fd);
        if (skip)
            {|DMA0010:return;|}
        Console.WriteLine(b.Size);
        b.Put();
    }"), Verify.Class(@"
    void M(int fd, bool skip)
    {
        DmaBuffer b;
        b = DmaBuffer.Get(fd);
        try
        {
            if (skip)
                return;
            Console.WriteLine(b.Size);
        }
        finally
        {
            b.Put();
        }
    }"), Finally);

    // In a nested block: the Put before a return inside is removed, the code after the block stays outside.
    [Fact]
    public Task NestedBlockAndPutBeforeAReturn() => Verify.VerifyAsync(Verify.Class(@"
    int M(DmaBufExporter exporter, int n)
    {
        if (n > 0)
        {
            var b = DmaBuffer.Export(exporter, n);
            if (n == 1)
            {
                b.Put();
                return 1;
            }
            else if (n == 2)
                {|DMA0010:return 2;|}
            Console.WriteLine(b.Size);
            b.Put();
        }

        return 0;
    }"), Verify.Class(@"
    int M(DmaBufExporter exporter, int n)
    {
        if (n > 0)
        {
            var b = DmaBuffer.Export(exporter, n);
            try
            {
                if (n == 1)
                {
                    return 1;
                }
                else if (n == 2)
                    return 2;
                Console.WriteLine(b.Size);
            }
            finally
            {
                b.Put();
            }
        }

        return 0;
    }"), Finally);

    // A reference taken in a loop is put at the end of the same iteration.
    [Fact]
    public Task ReferenceTakenInALoop() => Verify.VerifyAsync(Verify.Class(@"
    void M(int[] fds)
    {
        foreach (int fd in fds)
        {
            var b = DmaBuffer.Get(fd);
            if (b.Size == 0)
                {|DMA0010:return;|}
            Console.WriteLine(b.Size);
            b.Put();
        }
    }"), Verify.Class(@"
    void M(int[] fds)
    {
        foreach (int fd in fds)
        {
            var b = DmaBuffer.Get(fd);
            try
            {
                if (b.Size == 0)
                    return;
                Console.WriteLine(b.Size);
            }
            finally
            {
                b.Put();
            }
        }
    }"), Finally);

    // A local function at the end of the block stays outside the try block.
    [Fact]
    public Task LocalFunctionStaysOutside() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBufExporter exporter, bool skip)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        if (skip)
            {|DMA0010:return;|}
        Print(b.Size);
        b.Put();

        static void Print(long size) => Console.WriteLine(size);
    }"), Verify.Class(@"
    void M(DmaBufExporter exporter, bool skip)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        try
        {
            if (skip)
                return;
            Print(b.Size);
        }
        finally
        {
            b.Put();
        }

        static void Print(long size) => Console.WriteLine(size);
    }"), Finally);

    // One reference reported at two ways out, another in a second method, one with a Put at the end of an if
    // branch: every diagnostic of a reference is fixed by the first fix, so Fix All converges in one pass.
    [Fact]
    public Task FixAllWrapsEveryReference() => Verify.VerifyAsync(Verify.Class(@"
    int A(DmaBufExporter exporter, int n)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        if (n == 1)
            {|DMA0010:return 1;|}
        if (n == 2)
            {|DMA0010:return 2;|}
        b.Put();
        return 0;
    }

    void B(int fd, bool print)
    {
        var c = DmaBuffer.Get(fd);
        if (print)
        {
            Console.WriteLine(c.Size);
            c.Put();
        }
    {|DMA0010:}|}"), Verify.Class(@"
    int A(DmaBufExporter exporter, int n)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        try
        {
            if (n == 1)
                return 1;
            if (n == 2)
                return 2;
        }
        finally
        {
            b.Put();
        }

        return 0;
    }

    void B(int fd, bool print)
    {
        var c = DmaBuffer.Get(fd);
        try
        {
            if (print)
            {
                Console.WriteLine(c.Size);
            }
        }
        finally
        {
            c.Put();
        }
    }"), Finally, iterations: 2);

    [Fact]
    public Task FinallyKeepsComments() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBufExporter exporter, bool skip)
    {
        var b = DmaBuffer.Export(exporter, 4096); // take it
        // leave early?
        if (skip)
            {|DMA0010:return;|} // yes
        Console.WriteLine(/* size */ b.Size);
        // drop it
        b.Put(); // done
    }"), Verify.Class(@"
    void M(DmaBufExporter exporter, bool skip)
    {
        var b = DmaBuffer.Export(exporter, 4096); // take it
        try
        {
            // leave early?
            if (skip)
                return; // yes
            Console.WriteLine(/* size */ b.Size);
        }
        finally
        {
            // drop it
            b.Put(); // done
        }
    }"), Finally);

    // ---- DMA0010.PutInFinally: not offered ----

    [Fact]
    public Task NoFixWhenTheLocalIsReassigned() => Verify.VerifyNoFixAsync(Verify.Class(@"
    void M(DmaBufExporter exporter, int fd, bool skip)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        if (skip)
            {|DMA0010:return;|}
        b.Put();
        b = DmaBuffer.Get(fd);
        b.Put();
    }"), Finally);

    // Moving that Put into the finally block would run it after the WriteLine.
    [Fact]
    public Task NoFixWhenCodeRunsAfterAPutInside() => Verify.VerifyNoFixAsync(Verify.Class(@"
    void M(DmaBufExporter exporter, bool put)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        if (put)
        {
            b.Put();
            Console.WriteLine(put);
            return;
        }
    {|DMA0010:}|}"), Finally);

    // The copy puts the reference: a Put of 'b' in a finally block would put it twice.
    [Fact]
    public Task NoFixWhenACopyPutsIt() => Verify.VerifyNoFixAsync(Verify.Class(@"
    void M(DmaBufExporter exporter, bool skip)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        if (skip)
            {|DMA0010:return;|}
        var c = b;
        c.Put();
    }"), Finally);

    // The result is never stored in a local: nothing to put in a finally block.
    [Fact]
    public Task NoFixForADiscardedReference() => Verify.VerifyNoFixAsync(Verify.Class(@"
    void M(DmaBufExporter exporter)
    {
        DmaBuffer.Export(exporter, 4096).Fd();
    {|DMA0010:}|}"), Finally);
}
