// Tests of the DMA0003 fixes: the unmap given the matching call, page and buffer; a missing unmap inserted after the
// last use; the mapping turned into a using declaration; none after a return or for an atomic mapping before a
// blocking call.
using System.Threading.Tasks;
using DmaBuf.Analyzers.Rules;
using Verify = DmaBuf.CodeFixes.Tests.CodeFixVerifier<DmaBuf.Analyzers.Rules.DmaBufFlowAnalyzer, DmaBuf.CodeFixes.UnmatchedKmapFixer>;

namespace DmaBuf.CodeFixes.Tests;

public class UnmatchedKmapFixerTests
{
    private const string Match = UnmatchedKmapFixer.MatchUnmapKey;
    private const string Insert = UnmatchedKmapFixer.InsertUnmapKey;
    private const string Using = UnmatchedKmapFixer.UsingDeclarationKey;

    // ---- DMA0003.MatchUnmap ----

    [Fact]
    public Task AtomicMappingUnmappedWithKunmapGetsKunmapAtomic() => Verify.VerifyAsync(Verify.Class(@"
    byte M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        var page = buf.KmapAtomic(1);
        byte b = page.Span[0];
        {|DMA0003:buf.Kunmap(1, page)|};
        buf.EndCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        return b;
    }"), Verify.Class(@"
    byte M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        var page = buf.KmapAtomic(1);
        byte b = page.Span[0];
        buf.KunmapAtomic(1, page);
        buf.EndCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        return b;
    }"), Match);

    [Fact]
    public Task NestedUnmapOfAnotherPageGetsTheMappedPage() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf, bool fill)
    {
        using (buf.CpuAccess(0, 4 * DmaBuffer.PageSize, DmaDataDirection.ToDevice))
        {
            if (fill)
            {
                var page = buf.Kmap(3);
                page.Span.Fill(1);
                {|DMA0003:buf.Kunmap(2, page)|};
            }
        }
    }"), Verify.Class(@"
    void M(DmaBuffer buf, bool fill)
    {
        using (buf.CpuAccess(0, 4 * DmaBuffer.PageSize, DmaDataDirection.ToDevice))
        {
            if (fill)
            {
                var page = buf.Kmap(3);
                page.Span.Fill(1);
                buf.Kunmap(3, page);
            }
        }
    }"), Match);

    // Two independent unmaps in one document: each is repaired by its own edit, so Fix All needs one pass.
    [Fact]
    public Task FixAllRepairsEveryMismatchedUnmap() => Verify.VerifyAsync(Verify.Class(@"
    void A(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        var a = buf.Kmap(0);
        var b = buf.KmapAtomic(1);
        a.Span.Fill(1);
        b.Span.Fill(2);
        {|DMA0003:buf.Kunmap(1, b)|};
        {|DMA0003:buf.KunmapAtomic(0, a)|};
        buf.EndCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }

    void B(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        var c = buf.KmapAtomic(1);
        c.Span.Fill(3);
        {|DMA0003:buf.Kunmap(0, c)|};
        buf.EndCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }"), Verify.Class(@"
    void A(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        var a = buf.Kmap(0);
        var b = buf.KmapAtomic(1);
        a.Span.Fill(1);
        b.Span.Fill(2);
        buf.KunmapAtomic(1, b);
        buf.Kunmap(0, a);
        buf.EndCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }

    void B(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        var c = buf.KmapAtomic(1);
        c.Span.Fill(3);
        buf.KunmapAtomic(1, c);
        buf.EndCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }"), Match, iterations: 3);

    [Fact]
    public Task MatchKeepsComments() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        var page = buf.KmapAtomic(0);
        page.Span.Fill(1);
        // done with the page
        {|DMA0003:buf./* call */ Kunmap(0 /* page */, page)|}; // unmap
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }"), Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        var page = buf.KmapAtomic(0);
        page.Span.Fill(1);
        // done with the page
        buf./* call */ KunmapAtomic(0 /* page */, page); // unmap
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }"), Match);

    [Fact]
    public Task UnmapThroughAnotherBufferGetsTheMappingsBuffer() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf, DmaBuffer other)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        var page = buf.Kmap(0);
        page.Span.Fill(1);
        {|DMA0003:other.Kunmap(0, page)|};
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }"), Verify.Class(@"
    void M(DmaBuffer buf, DmaBuffer other)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        var page = buf.Kmap(0);
        page.Span.Fill(1);
        buf.Kunmap(0, page);
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }"), Match);

    // ---- DMA0003.InsertUnmap ----

    [Fact]
    public Task MissingUnmapIsInsertedAfterTheLastUse() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        var page = buf.KmapAtomic(0);
        page.Span.Fill(1);
        {|DMA0005:buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice)|};
    {|DMA0003:}|}"), Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        var page = buf.KmapAtomic(0);
        page.Span.Fill(1);
        buf.KunmapAtomic(0, page);
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }"), Insert);

    [Fact]
    public Task NestedMissingUnmapIsInsertedInTheMappingsBlock() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf, long n, bool fill)
    {
        using (buf.CpuAccess(0, buf.Size, DmaDataDirection.ToDevice))
        {
            if (fill)
            {
                var page = buf.Kmap(n);
                if (n > 0)
                {
                    page.Span.Fill(1);
                }
            }
        }
    {|DMA0003:}|}"), Verify.Class(@"
    void M(DmaBuffer buf, long n, bool fill)
    {
        using (buf.CpuAccess(0, buf.Size, DmaDataDirection.ToDevice))
        {
            if (fill)
            {
                var page = buf.Kmap(n);
                if (n > 0)
                {
                    page.Span.Fill(1);
                }
                buf.Kunmap(n, page);
            }
        }
    }"), Insert);

    // The page reported at two ways out gets one unmap: the second diagnostic's plan sees the unmap the first one
    // added and declines, so Fix All converges in one pass and each single fix leaves nothing to do.
    [Fact]
    public Task FixAllInsertsOneUnmapPerMapping() => Verify.VerifyAsync(Verify.Class(@"
    int A(DmaBuffer buf, bool early)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        var page = buf.Kmap(1);
        int first = page.Span[0];
        buf.EndCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        if (early)
            {|DMA0003:return first;|}
        {|DMA0003:return first + 1;|}
    }

    void B(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        var page = buf.Kmap(0);
        Checksum(page.Span);
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    {|DMA0003:}|}"), Verify.Class(@"
    int A(DmaBuffer buf, bool early)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        var page = buf.Kmap(1);
        int first = page.Span[0];
        buf.Kunmap(1, page);
        buf.EndCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        if (early)
            return first;
        return first + 1;
    }

    void B(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        var page = buf.Kmap(0);
        Checksum(page.Span);
        buf.Kunmap(0, page);
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }"), Insert, iterations: 2);

    // Two mappings reported at the same closing brace: the second plan must still find the way out after the first
    // fix inserted a statement above it.
    [Fact]
    public Task FixAllInsertsAnUnmapForEveryMappingOfOneMethod() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        var a = buf.Kmap(0);
        a.Span.Fill(1);
        var b = buf.Kmap(1);
        b.Span.Fill(2);
        buf.EndCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    {|DMA0003:{|DMA0003:}|}|}"), Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        var a = buf.Kmap(0);
        a.Span.Fill(1);
        buf.Kunmap(0, a);
        var b = buf.Kmap(1);
        b.Span.Fill(2);
        buf.Kunmap(1, b);
        buf.EndCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }"), Insert, iterations: 2);

    [Fact]
    public Task InsertKeepsComments() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        // map the only page
        var page = buf.Kmap(0); // mapped
        page.Span.Fill(1); // fill it
        // and end
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    {|DMA0003:}|}"), Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        // map the only page
        var page = buf.Kmap(0); // mapped
        page.Span.Fill(1); // fill it
        buf.Kunmap(0, page);
        // and end
        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
    }"), Insert);

    [Fact]
    public Task NoInsertAfterAReturn() => Verify.VerifyNoFixAsync(Verify.Class(@"
    byte M(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice))
        {
            var page = buf.Kmap(0);
            {|DMA0003:return page.Span[0];|}
        }
    }"), Insert);

    // ---- DMA0003.UsingDeclaration ----

    [Fact]
    public Task MappingBecomesAUsingDeclaration() => Verify.VerifyAsync(Verify.Class(@"
    byte M(DmaBuffer buf)
    {
        using ({|DMA0005:buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice)|})
        {
            var page = buf.KmapAtomic(0);
            {|DMA0003:return page.Span[0];|}
        }
    }"), Verify.Class(@"
    byte M(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice))
        {
            using var page = buf.KmapAtomic(0);
            return page.Span[0];
        }
    }"), Using);

    [Fact]
    public Task NestedMappingReportedAtTwoExitsBecomesOneUsingDeclaration() => Verify.VerifyAsync(Verify.Class(@"
    int M(DmaBuffer buf, bool a, bool b)
    {
        using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice))
        {
            if (a)
            {
                DmaBufPage page = buf.Kmap(0);
                if (b)
                    {|DMA0003:return page.Span[1];|}
                {|DMA0003:return page.Span[0];|}
            }

            return 0;
        }
    }"), Verify.Class(@"
    int M(DmaBuffer buf, bool a, bool b)
    {
        using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice))
        {
            if (a)
            {
                using DmaBufPage page = buf.Kmap(0);
                if (b)
                    return page.Span[1];
                return page.Span[0];
            }

            return 0;
        }
    }"), Using, iterations: 1);

    [Fact]
    public Task FixAllTurnsEveryMappingIntoAUsingDeclaration() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.ToDevice))
        {
            var a = buf.Kmap(0);
            var b = buf.Kmap(1);
            a.Span.Fill(1);
            b.Span.Fill(2);
        }
    {|DMA0003:{|DMA0003:}|}|}"), Verify.Class(@"
    void M(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.ToDevice))
        {
            using var a = buf.Kmap(0);
            using var b = buf.Kmap(1);
            a.Span.Fill(1);
            b.Span.Fill(2);
        }
    }"), Using, iterations: 2);

    [Fact]
    public Task UsingDeclarationKeepsComments() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        using ({|DMA0005:buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice)|})
        {
            // the first page
            var page = /* atomic */ buf.KmapAtomic(0); // mapped here
            page.Span.Fill(1);
        }
    {|DMA0003:}|}"), Verify.Class(@"
    void M(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice))
        {
            // the first page
            using var page = /* atomic */ buf.KmapAtomic(0); // mapped here
            page.Span.Fill(1);
        }
    }"), Using);

    [Fact]
    public Task NoUsingDeclarationForAnAtomicMappingBeforeABlockingCall() => Verify.VerifyNoFixAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        var page = buf.KmapAtomic(0);
        page.Span.Fill(1);
        {|DMA0005:buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice)|};
    {|DMA0003:}|}"), Using);
}
