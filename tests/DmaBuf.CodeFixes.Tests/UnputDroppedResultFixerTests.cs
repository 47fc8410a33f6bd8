// Tests of "Put the reference to 'Import(fd)' after its use" (DMA0010.PutAfterUse): a call's result read through one
// property and dropped, in a return, an expression body, an expression statement and a local's initializer; Fix All;
// and the shapes where storing the result first would change when the call runs, or the result is not only read.
using System.Threading.Tasks;
using Verify = DmaBuf.CodeFixes.Tests.CodeFixVerifier<DmaBuf.Analyzers.Rules.DmaBufFlowAnalyzer, DmaBuf.CodeFixes.UnputDroppedResultFixer>;

namespace DmaBuf.CodeFixes.Tests;

public class UnputDroppedResultFixerTests
{
    private const string Key = UnputDroppedResultFixer.PutAfterUseKey;

    // A helper in expression form whose reference is read in a larger returned expression; the comment stays.
    [Fact]
    public Task ReturnedReadOfAHelperResultIsPutInAFinallyBlock() => Verify.VerifyAsync(Verify.Class(@"
    static DmaBuffer Open(int descriptor) => DmaBuffer.Get(descriptor);

    long Bytes(int descriptor, long header)
    {
        Console.WriteLine(header);
        {|DMA0010:return header + Open(descriptor).Size;|} // whole buffer
    }"), Verify.Class(@"
    static DmaBuffer Open(int descriptor) => DmaBuffer.Get(descriptor);

    long Bytes(int descriptor, long header)
    {
        Console.WriteLine(header);
        var buf = Open(descriptor);
        try
        {
            return header + buf.Size; // whole buffer
        }
        finally
        {
            buf.Put();
        }
    }"), Key);

    // DmaBuffer.Get read directly, as the expression body of a method: the body becomes a block.
    [Fact]
    public Task ExpressionBodyBecomesABlock() => Verify.VerifyAsync(Verify.Class(@"
    long Pages(int fd) => {|DMA0010:DmaBuffer.Get(fd).PageCount|};"), Verify.Class(@"
    long Pages(int fd)
    {
        var buf = DmaBuffer.Get(fd);
        try
        {
            return buf.PageCount;
        }
        finally
        {
            buf.Put();
        }
    }"), Key);

    // An expression statement embedded in an if: the local and the try statement go in a new block.
    [Fact]
    public Task EmbeddedExpressionStatementGetsABlock() => Verify.VerifyAsync(Verify.Class(@"
    static DmaBuffer Import(int fd)
    {
        var b = DmaBuffer.Get(fd);
        return b;
    }

    void Log(int fd, bool verbose)
    {
        if (verbose)
            Console.WriteLine(Import(fd).Size);
    {|DMA0010:}|}"), Verify.Class(@"
    static DmaBuffer Import(int fd)
    {
        var b = DmaBuffer.Get(fd);
        return b;
    }

    void Log(int fd, bool verbose)
    {
        if (verbose)
        {
            var buf = Import(fd);
            try
            {
                Console.WriteLine(buf.Size);
            }
            finally
            {
                buf.Put();
            }
        }
    }"), Key);

    // A local's initializer: the local is declared where it was, with its type, and assigned in the try block; the
    // name 'buf' is taken, so the new local gets another.
    [Fact]
    public Task LocalInitializerIsAssignedInTheTryBlock() => Verify.VerifyAsync(Verify.Class(@"
    static DmaBuffer Import(int fd) => DmaBuffer.Get(fd);

    long Check(int fd, long buf)
    {
        // the size decides
        var size = Import(fd).Size;
        if (size < buf)
            {|DMA0010:return -22;|}
        {|DMA0010:return size;|}
    }"), Verify.Class(@"
    static DmaBuffer Import(int fd) => DmaBuffer.Get(fd);

    long Check(int fd, long buf)
    {
        // the size decides
        var buf1 = Import(fd);
        long size;
        try
        {
            size = buf1.Size;
        }
        finally
        {
            buf1.Put();
        }

        if (size < buf)
            return -22;
        return size;
    }"), Key);

    // One dropped result reported at both ways out is fixed once.
    [Fact]
    public Task LocalInitializerReportedAtTwoReturnsIsFixedOnce() => Verify.VerifyAsync(Verify.Class(@"
    long Check(int fd, long limit)
    {
        long size = DmaBuffer.Get(fd).Size;
        if (size > limit)
            {|DMA0010:return limit;|}
        {|DMA0010:return size;|}
    }"), Verify.Class(@"
    long Check(int fd, long limit)
    {
        var buf = DmaBuffer.Get(fd);
        long size;
        try
        {
            size = buf.Size;
        }
        finally
        {
            buf.Put();
        }

        if (size > limit)
            return limit;
        return size;
    }"), Key);

    // Fix All: every dropped result of the document, including two in one statement (the second is stored once the
    // first is, as nothing with effects runs before it any more), and a void expression body.
    [Fact]
    public Task FixAllPutsEveryDroppedResult() => Verify.VerifyAsync(Verify.Class(@"
    static DmaBuffer Import(int fd) => DmaBuffer.Get(fd);

    long Both(int a, int b)
    {
        {|DMA0010:{|DMA0010:return Import(a).Size + Import(b).Size;|}|}
    }

    void Show(int fd) => Console.WriteLine(Import(fd).PageCount){|DMA0010:;|}"), Verify.Class(@"
    static DmaBuffer Import(int fd) => DmaBuffer.Get(fd);

    long Both(int a, int b)
    {
        var buf = Import(a);
        try
        {
            var buf1 = Import(b);
            try
            {
                return buf.Size + buf1.Size;
            }
            finally
            {
                buf1.Put();
            }
        }
        finally
        {
            buf.Put();
        }
    }

    void Show(int fd)
    {
        var buf = Import(fd);
        try
        {
            Console.WriteLine(buf.PageCount);
        }
        finally
        {
            buf.Put();
        }
    }"), Key, iterations: 3);

    // A result that is not read at all: whether it was meant to be kept is not in the code.
    [Fact]
    public Task NotOfferedForAResultThatIsNotRead() => Verify.VerifyNoFixAsync(Verify.Class(@"
    static DmaBuffer Import(int fd) => DmaBuffer.Get(fd);

    void Touch(int fd)
    {
        Import(fd);
    {|DMA0010:}|}"), Key);

    // Evaluated only on one branch: storing it first would import a buffer the code never imported.
    [Fact]
    public Task NotOfferedForAConditionalRead() => Verify.VerifyNoFixAsync(Verify.Class(@"
    static DmaBuffer Import(int fd) => DmaBuffer.Get(fd);

    long SizeOf(int fd, bool known)
    {
        {|DMA0010:return known ? Import(fd).Size : 0;|}
    }"), Key);

    // A call with effects runs before the import: storing the import first would swap them.
    [Fact]
    public Task NotOfferedAfterACallInTheSameStatement() => Verify.VerifyNoFixAsync(Verify.Class(@"
    static DmaBuffer Import(int fd) => DmaBuffer.Get(fd);

    static long Header() => 64;

    long Total(int fd)
    {
        {|DMA0010:return Header() + Import(fd).Size;|}
    }"), Key);

    // A method of the buffer, not a property read: Fd installs a descriptor that may be meant to hold the buffer.
    [Fact]
    public Task NotOfferedForAMethodCallOnTheResult() => Verify.VerifyNoFixAsync(Verify.Class(@"
    static DmaBuffer Import(int fd) => DmaBuffer.Get(fd);

    int Share(int fd)
    {
        {|DMA0010:return Import(fd).Fd();|}
    }"), Key);

    // Debug.WriteLine is [Conditional("DEBUG")]: a release build does not import at all, and would once stored first.
    [Fact]
    public Task NotOfferedInTheArgumentsOfAConditionalMethod() => Verify.VerifyNoFixAsync(Verify.Class(@"
    static DmaBuffer Import(int fd) => DmaBuffer.Get(fd);

    void Trace(int fd)
    {
        System.Diagnostics.Debug.WriteLine(Import(fd).Size);
    {|DMA0010:}|}"), Key);
}
