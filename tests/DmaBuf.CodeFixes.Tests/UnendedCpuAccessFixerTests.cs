// Tests of the main DMA0001 fixes: a CpuAccess scope (declaration or block) or the end in a finally block, for ranged,
// whole-buffer and helper begins (the end written in the caller's terms), discarded scopes disposed, Fix All in every
// scope; none where the arguments change inside or an end would be lost.
using System.Threading.Tasks;
using Verify = DmaBuf.CodeFixes.Tests.CodeFixVerifier<DmaBuf.Analyzers.Rules.DmaBufFlowAnalyzer, DmaBuf.CodeFixes.UnendedCpuAccessFixer>;

namespace DmaBuf.CodeFixes.Tests;

public class UnendedCpuAccessFixerTests
{
    private const string Scope = UnendedCpuAccessFixer.UseScopeKey;
    private const string Finally = UnendedCpuAccessFixer.EndInFinallyKey;

    private const string Sample = @"
    int M(DmaBuffer buf, bool empty)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        if (empty)
        {
            {|DMA0001:return 0;|}
        }

        var page = buf.Kmap(0);
        int first = page.Span[0];
        buf.Kunmap(0, page);
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        return first;
    }";

    // ---- DMA0001.UseScope ----

    [Fact]
    public Task BeginBecomesAUsingDeclaration() => Verify.VerifyAsync(Verify.Class(Sample), Verify.Class(@"
    int M(DmaBuffer buf, bool empty)
    {
        using var access = buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        if (empty)
        {
            return 0;
        }

        var page = buf.Kmap(0);
        int first = page.Span[0];
        buf.Kunmap(0, page);
        return first;
    }"), Scope);

    // dotnet format (analyzers --diagnostics DMA0001) applies the first fix a provider registers, in Fix All: the
    // scope must come first, with its key.
    [Fact]
    public Task ScopeIsTheFirstFixOffered() => Verify.VerifyAsync(Verify.Class(Sample), Verify.Class(@"
    int M(DmaBuffer buf, bool empty)
    {
        using var access = buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        if (empty)
        {
            return 0;
        }

        var page = buf.Kmap(0);
        int first = page.Span[0];
        buf.Kunmap(0, page);
        return first;
    }"), Scope, actionIndex: 0);

    [Fact]
    public Task NestedBeginWithCodeAfterTheEndGetsAUsingBlock() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf, bool skip, int access)
    {
        if (access > 0)
        {
            buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
            if (skip)
                {|DMA0001:return;|}
            using (var page = buf.Kmap(0))
                page.Span.Fill(0xFF);
            buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
            Console.WriteLine(access);
        }
    }"), Verify.Class(@"
    void M(DmaBuffer buf, bool skip, int access)
    {
        if (access > 0)
        {
            using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice))
            {
                if (skip)
                    return;
                using (var page = buf.Kmap(0))
                    page.Span.Fill(0xFF);
            }

            Console.WriteLine(access);
        }
    }"), Scope);

    // Two begins, one reported at two ways out: every diagnostic of a begin is fixed by the first fix, later ones
    // find no begin left and decline, so Fix All converges in one pass.
    [Fact]
    public Task FixAllScopesEveryBegin() => Verify.VerifyAsync(Verify.Class(@"
    int A(DmaBuffer buf, int n)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        if (n == 1)
            {|DMA0001:return 1;|}
        if (n == 2)
            {|DMA0001:return 2;|}
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        return 0;
    }

    void B(DmaBuffer buf, int access)
    {
        buf.BeginCpuAccess(DmaBuffer.PageSize, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        Console.WriteLine(access);
    {|DMA0001:}|}"), Verify.Class(@"
    int A(DmaBuffer buf, int n)
    {
        using var access = buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        if (n == 1)
            return 1;
        if (n == 2)
            return 2;
        return 0;
    }

    void B(DmaBuffer buf, int access)
    {
        using var access1 = buf.CpuAccess(DmaBuffer.PageSize, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        Console.WriteLine(access);
    }"), Scope, iterations: 2);

    [Fact]
    public Task ScopeKeepsComments() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf, bool skip)
    {
        // begin the access
        buf.BeginCpuAccess(0, /* one page */ DmaBuffer.PageSize, DmaDataDirection.ToDevice); // start
        if (skip)
            {|DMA0001:return;|} // nothing to do
        // fill it
        using (var page = buf.Kmap(0))
            page.Span.Fill(0xFF);
        // done
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }"), Verify.Class(@"
    void M(DmaBuffer buf, bool skip)
    {
        // begin the access
        using var access = buf.CpuAccess(0, /* one page */ DmaBuffer.PageSize, DmaDataDirection.ToDevice); // start
        if (skip)
            return; // nothing to do
        // fill it
        using (var page = buf.Kmap(0))
            page.Span.Fill(0xFF);
        // done
    }"), Scope);

    [Fact]
    public Task NoScopeWhenTheArgumentsChangeInside() => Verify.VerifyNoFixAsync(Verify.Class(@"
    void M(DmaBuffer buf, long length, bool skip)
    {
        buf.BeginCpuAccess(0, length, DmaDataDirection.ToDevice);
        if (skip)
            {|DMA0001:return;|}
        length = 0;
    {|DMA0001:}|}"), Scope);

    // ---- DMA0001.EndInFinally ----

    [Fact]
    public Task RestOfTheBlockIsWrappedInTryFinally() => Verify.VerifyAsync(Verify.Class(Sample), Verify.Class(@"
    int M(DmaBuffer buf, bool empty)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        try
        {
            if (empty)
            {
                return 0;
            }

            var page = buf.Kmap(0);
            int first = page.Span[0];
            buf.Kunmap(0, page);
            return first;
        }
        finally
        {
            buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        }
    }"), Finally);

    // One begin reported at two ways out: the first fix covers both, and Fix All must not trip over the second
    // report, whose node the first fix moved into the try block.
    [Fact]
    public Task BeginReportedAtTwoReturnsIsWrappedOnce() => Verify.VerifyAsync(Verify.Class(@"
    int M(DmaBuffer buf, bool empty, bool odd)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        if (empty)
        {
            {|DMA0001:return 0;|}
        }

        if (odd)
        {
            {|DMA0001:return 1;|}
        }

        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        return 2;
    }"), Verify.Class(@"
    int M(DmaBuffer buf, bool empty, bool odd)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        try
        {
            if (empty)
            {
                return 0;
            }

            if (odd)
            {
                return 1;
            }
        }
        finally
        {
            buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        }

        return 2;
    }"), Finally);

    [Fact]
    public Task NestedEndMovesIntoTheFinallyBlock() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf, bool skip, int n)
    {
        for (int i = 0; i < n; i++)
        {
            buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
            if (skip)
                {|DMA0001:return;|}
            using (var page = buf.Kmap(0))
                page.Span.Fill(0xFF);
            buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
            Console.WriteLine(i);
        }
    }"), Verify.Class(@"
    void M(DmaBuffer buf, bool skip, int n)
    {
        for (int i = 0; i < n; i++)
        {
            buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
            try
            {
                if (skip)
                    return;
                using (var page = buf.Kmap(0))
                    page.Span.Fill(0xFF);
            }
            finally
            {
                buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
            }

            Console.WriteLine(i);
        }
    }"), Finally);

    [Fact]
    public Task FixAllWrapsEveryBegin() => Verify.VerifyAsync(Verify.Class(@"
    void A(DmaBuffer buf, bool skip)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        if (skip)
            {|DMA0001:return;|}
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }

    void B(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        Console.WriteLine(buf.Size);
    {|DMA0001:}|}"), Verify.Class(@"
    void A(DmaBuffer buf, bool skip)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        try
        {
            if (skip)
                return;
        }
        finally
        {
            buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        }
    }

    void B(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        try
        {
            Console.WriteLine(buf.Size);
        }
        finally
        {
            buf.EndCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        }
    }"), Finally, iterations: 2);

    [Fact]
    public Task FinallyKeepsComments() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf, bool skip)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice); // start
        // leave early?
        if (skip)
            {|DMA0001:return;|} // yes
        // end it
        buf.EndCpuAccess(0, /* same */ DmaBuffer.PageSize, DmaDataDirection.ToDevice); // end
    }"), Verify.Class(@"
    void M(DmaBuffer buf, bool skip)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice); // start
        try
        {
            // leave early?
            if (skip)
                return; // yes
        }
        finally
        {
            // end it
            buf.EndCpuAccess(0, /* same */ DmaBuffer.PageSize, DmaDataDirection.ToDevice); // end
        }
    }"), Finally);

    [Fact]
    public Task NoFinallyWhenAnEndInALoopWouldBeRemoved() => Verify.VerifyNoFixAsync(Verify.Class(@"
    void M(DmaBuffer buf, int n)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        for (int i = 0; i < n; i++)
        {
            if (i == 3)
            {
                buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
                return;
            }
        }
    {|DMA0001:}|}"), Finally);

    [Fact]
    public Task UsingBlockKeepsComments() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf, bool skip)
    {
        // begin
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice); // start
        if (skip)
            {|DMA0001:return;|} // nothing
        // fill it
        using (var page = buf.Kmap(0))
            page.Span.Fill(0xFF);
        // end
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice); // ended
        // after
        Console.WriteLine(skip);
    }"), Verify.Class(@"
    void M(DmaBuffer buf, bool skip)
    {
        // begin
        using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice)) // start
        {
            if (skip)
                return; // nothing
            // fill it
            using (var page = buf.Kmap(0))
                page.Span.Fill(0xFF);
        }
        // end
        // ended
        // after
        Console.WriteLine(skip);
    }"), Scope);

    // Fix All in project and solution scope reaches every document.
    [Fact]
    public Task FixAllInProjectScopesEveryDocument() => Verify.VerifyDocumentsAsync(
        new[] { Verify.Class(Sample), Verify.Usings + @"class D
{
    void N(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        Console.WriteLine(buf.Size);
    {|DMA0001:}|}
}
" },
        new[] { Verify.Class(@"
    int M(DmaBuffer buf, bool empty)
    {
        using var access = buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        if (empty)
        {
            return 0;
        }

        var page = buf.Kmap(0);
        int first = page.Span[0];
        buf.Kunmap(0, page);
        return first;
    }"), Verify.Usings + @"class D
{
    void N(DmaBuffer buf)
    {
        using var access = buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        Console.WriteLine(buf.Size);
    }
}
" },
        Scope,
        iterations: 2);

    // A CpuAccess scope that is never disposed: the scope fix disposes it; there is no begin to end in a finally.
    [Fact]
    public Task DiscardedScopeIsDisposed() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        using (var page = buf.Kmap(0))
            page.Span.Fill(1);
    {|DMA0001:}|}"), Verify.Class(@"
    void M(DmaBuffer buf)
    {
        using var access = buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        using (var page = buf.Kmap(0))
            page.Span.Fill(1);
    }"), Scope);

    // ---- whole-buffer access: the scope and the end are written in the begin's form ----

    [Fact]
    public Task WholeBufferBeginWithCodeAfterTheEndGetsAUsingBlock() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf, bool skip)
    {
        buf.BeginCpuAccess(DmaDataDirection.ToDevice);
        if (skip)
            {|DMA0001:return;|}
        using (var page = buf.Kmap(0))
            page.Span.Fill(0xFF);
        buf.EndCpuAccess(DmaDataDirection.ToDevice);
        Console.WriteLine(buf.Size);
    }"), Verify.Class(@"
    void M(DmaBuffer buf, bool skip)
    {
        using (buf.CpuAccess(DmaDataDirection.ToDevice))
        {
            if (skip)
                return;
            using (var page = buf.Kmap(0))
                page.Span.Fill(0xFF);
        }

        Console.WriteLine(buf.Size);
    }"), Scope);

    [Fact]
    public Task WholeBufferBeginBecomesAUsingDeclaration() => Verify.VerifyAsync(Verify.Class(@"
    int M(DmaBuffer buf, bool empty)
    {
        buf.BeginCpuAccess(DmaDataDirection.FromDevice);
        if (empty)
            {|DMA0001:return 0;|}
        var page = buf.Kmap(0);
        int first = page.Span[0];
        buf.Kunmap(0, page);
        buf.EndCpuAccess(DmaDataDirection.FromDevice);
        return first;
    }"), Verify.Class(@"
    int M(DmaBuffer buf, bool empty)
    {
        using var access = buf.CpuAccess(DmaDataDirection.FromDevice);
        if (empty)
            return 0;
        var page = buf.Kmap(0);
        int first = page.Span[0];
        buf.Kunmap(0, page);
        return first;
    }"), Scope);

    [Fact]
    public Task WholeBufferBeginIsWrappedInTryFinally() => Verify.VerifyAsync(Verify.Class(@"
    int M(DmaBuffer buf, bool empty)
    {
        buf.BeginCpuAccess(DmaDataDirection.FromDevice);
        if (empty)
            {|DMA0001:return 0;|}
        var page = buf.Kmap(0);
        int first = page.Span[0];
        buf.Kunmap(0, page);
        buf.EndCpuAccess(DmaDataDirection.FromDevice);
        return first;
    }"), Verify.Class(@"
    int M(DmaBuffer buf, bool empty)
    {
        buf.BeginCpuAccess(DmaDataDirection.FromDevice);
        try
        {
            if (empty)
                return 0;
            var page = buf.Kmap(0);
            int first = page.Span[0];
            buf.Kunmap(0, page);
            return first;
        }
        finally
        {
            buf.EndCpuAccess(DmaDataDirection.FromDevice);
        }
    }"), Finally);

    // Fix All covers the whole-buffer begin and the ranged one alike, each in its own form.
    [Fact]
    public Task FixAllWrapsWholeBufferAndRangedBegins() => Verify.VerifyAsync(Verify.Class(@"
    void A(DmaBuffer buf, bool skip)
    {
        buf.BeginCpuAccess(DmaDataDirection.ToDevice);
        if (skip)
            {|DMA0001:return;|}
        buf.EndCpuAccess(DmaDataDirection.ToDevice);
    }

    void B(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        Console.WriteLine(buf.Size);
    {|DMA0001:}|}"), Verify.Class(@"
    void A(DmaBuffer buf, bool skip)
    {
        buf.BeginCpuAccess(DmaDataDirection.ToDevice);
        try
        {
            if (skip)
                return;
        }
        finally
        {
            buf.EndCpuAccess(DmaDataDirection.ToDevice);
        }
    }

    void B(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        try
        {
            Console.WriteLine(buf.Size);
        }
        finally
        {
            buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        }
    }"), Finally, iterations: 2);

    // A ranged end does not end a whole-buffer access: the scope would leave it in place, ended twice.
    [Fact]
    public Task NoScopeWhenAWholeBufferBeginHasARangedEndInside() => Verify.VerifyNoFixAsync(Verify.Class(@"
    void M(DmaBuffer buf, bool skip)
    {
        buf.BeginCpuAccess(DmaDataDirection.ToDevice);
        if (skip)
            {|DMA0001:return;|}
        {|DMA0002:buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice)|};
    }"), Scope);

    [Fact]
    public Task DiscardedWholeBufferScopeIsDisposed() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.CpuAccess(DmaDataDirection.ToDevice);
        using (var page = buf.Kmap(0))
            page.Span.Fill(1);
    {|DMA0001:}|}"), Verify.Class(@"
    void M(DmaBuffer buf)
    {
        using var access = buf.CpuAccess(DmaDataDirection.ToDevice);
        using (var page = buf.Kmap(0))
            page.Span.Fill(1);
    }"), Scope);

    // A helper begins on the buffer it is given and returns it: the caller's code after the call goes into a try whose
    // finally ends the access with the helper's range in the caller's terms (the mapping is unmapped before the end).
    [Fact]
    public Task HelperBeginGetsAFinallyInTheCallersTerms() => Verify.VerifyAsync(Verify.Class(@"
    static DmaBuffer Prepare(DmaBuffer target, long bytes)
    {
        target.BeginCpuAccess(0, bytes, DmaDataDirection.FromDevice);
        return target;
    }

    int M(DmaBuffer frame)
    {
        var prepared = Prepare(frame, frame.Size);
        // read the first byte
        using var page = prepared.Kmap(0);
        {|DMA0001:return page.Span[0];|}
    }"), Verify.Class(@"
    static DmaBuffer Prepare(DmaBuffer target, long bytes)
    {
        target.BeginCpuAccess(0, bytes, DmaDataDirection.FromDevice);
        return target;
    }

    int M(DmaBuffer frame)
    {
        var prepared = Prepare(frame, frame.Size);
        try
        {
            // read the first byte
            using var page = prepared.Kmap(0);
            return page.Span[0];
        }
        finally
        {
            frame.EndCpuAccess(0, frame.Size, DmaDataDirection.FromDevice);
        }
    }"), Finally);

    private const string FluentWriting = @"
static class Fluent
{
    public static DmaBuffer Writing(this DmaBuffer b)
    {
        b.BeginCpuAccess(DmaDataDirection.ToDevice);
        return b;
    }

    public static void Stamp(this DmaBuffer b, byte value)
    {
        using var page = b.Kmap(0);
        page.Span[0] = value;
    }
}
";

    // A fluent extension that begins a whole-buffer access and returns its receiver, called in a chain.
    [Fact]
    public Task FluentExtensionBeginGetsAFinallyInTheCallersTerms() => Verify.VerifyAsync(Verify.Usings + FluentWriting + @"
class C
{
    void M(DmaBuffer output, byte value)
    {
        output.Writing().Stamp(value);
        Console.WriteLine(value);
    {|DMA0001:}|}
}
", Verify.Usings + FluentWriting + @"
class C
{
    void M(DmaBuffer output, byte value)
    {
        output.Writing().Stamp(value);
        try
        {
            Console.WriteLine(value);
        }
        finally
        {
            output.EndCpuAccess(DmaDataDirection.ToDevice);
        }
    }
}
", Finally);

    // The code after the call ends the access itself on one path: a finally block would end it twice there.
    [Fact]
    public Task NoFinallyForAHelperBeginThatTheCodeEndsOnSomePaths() => Verify.VerifyNoFixAsync(Verify.Class(@"
    static DmaBuffer Prepare(DmaBuffer target)
    {
        target.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        return target;
    }

    int M(DmaBuffer frame, bool done)
    {
        Prepare(frame);
        if (done)
        {
            frame.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
            return 0;
        }

        {|DMA0001:return 1;|}
    }"), Finally);

    // The helper's counterpart ends the access on one path: a finally block would end it a second time there.
    [Fact]
    public Task NoFinallyForAHelperBeginThatACounterpartEndsOnSomePaths() => Verify.VerifyNoFixAsync(Verify.Class(@"
    static void Begin(DmaBuffer b) => b.BeginCpuAccess(0, b.Size, DmaDataDirection.FromDevice);

    static void Done(DmaBuffer b) => b.EndCpuAccess(0, b.Size, DmaDataDirection.FromDevice);

    int M(DmaBuffer frame, bool done)
    {
        Begin(frame);
        if (done)
        {
            Done(frame);
            return 0;
        }

        {|DMA0001:return 1;|}
    }"), Finally);
}
