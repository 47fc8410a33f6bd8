// Tests of "Map with Kmap instead" (DMA0004): the third page mapped with Kmap before the others are, or a window of
// atomic mappings carried across a loop mapped with Kmap as a whole; none where the page is computed between or another
// atomic mapping is held; for a call that maps while two are held, the later held mapping with Kmap.
using System.Threading.Tasks;
using Verify = DmaBuf.CodeFixes.Tests.CodeFixVerifier<DmaBuf.Analyzers.Rules.DmaBufFlowAnalyzer, DmaBuf.CodeFixes.TooManyAtomicKmapsFixer>;

namespace DmaBuf.CodeFixes.Tests;

public class TooManyAtomicKmapsFixerTests
{
    private const string Key = TooManyAtomicKmapsFixer.UseKmapKey;

    [Fact]
    public Task ThirdPageIsMappedWithKmapBeforeTheOthers() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
        var a = buf.KmapAtomic(0);
        var b = buf.KmapAtomic(1);
        var c = {|DMA0004:buf.KmapAtomic(2)|};
        a.Span.CopyTo(c.Span);
        b.Span.CopyTo(c.Span);
        buf.KunmapAtomic(2, c);
        buf.KunmapAtomic(1, b);
        buf.KunmapAtomic(0, a);
        buf.EndCpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
    }"), Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
        var c = buf.Kmap(2);
        var a = buf.KmapAtomic(0);
        var b = buf.KmapAtomic(1);
        a.Span.CopyTo(c.Span);
        b.Span.CopyTo(c.Span);
        buf.Kunmap(2, c);
        buf.KunmapAtomic(1, b);
        buf.KunmapAtomic(0, a);
        buf.EndCpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
    }"), Key);

    [Fact]
    public Task NestedUsingDeclarationMovesUp() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf, bool copy)
    {
        using (buf.CpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional))
        {
            if (copy)
            {
                using var a = buf.KmapAtomic(0);
                a.Span.Fill(1);
                using var b = buf.KmapAtomic(1);
                using var c = {|DMA0004:buf.KmapAtomic(2)|};
                b.Span.CopyTo(c.Span);
            }
        }
    }"), Verify.Class(@"
    void M(DmaBuffer buf, bool copy)
    {
        using (buf.CpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional))
        {
            if (copy)
            {
                using var c = buf.Kmap(2);
                using var a = buf.KmapAtomic(0);
                a.Span.Fill(1);
                using var b = buf.KmapAtomic(1);
                b.Span.CopyTo(c.Span);
            }
        }
    }"), Key);

    // A third and a fourth atomic mapping: the fourth is reported with three held (its sites include the third).
    // Fixing the third first leaves two atomic ones at the fourth's site, whose plan ignores the site that is Kmap now
    // and moves the fourth up too. One Fix All pass does both; one at a time takes two fixes.
    [Fact]
    public Task FixAllMapsEveryExtraPageWithKmap() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 4 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
        var a = buf.KmapAtomic(0);
        var b = buf.KmapAtomic(1);
        var c = {|DMA0004:buf.KmapAtomic(2)|};
        var d = {|DMA0004:buf.KmapAtomic(3)|};
        a.Span.CopyTo(c.Span);
        b.Span.CopyTo(d.Span);
        buf.KunmapAtomic(3, d);
        buf.KunmapAtomic(2, c);
        buf.KunmapAtomic(1, b);
        buf.KunmapAtomic(0, a);
        buf.EndCpuAccess(0, 4 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
    }"), Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 4 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
        var c = buf.Kmap(2);
        var d = buf.Kmap(3);
        var a = buf.KmapAtomic(0);
        var b = buf.KmapAtomic(1);
        a.Span.CopyTo(c.Span);
        b.Span.CopyTo(d.Span);
        buf.Kunmap(3, d);
        buf.Kunmap(2, c);
        buf.KunmapAtomic(1, b);
        buf.KunmapAtomic(0, a);
        buf.EndCpuAccess(0, 4 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
    }"), Key, iterations: 2);

    [Fact]
    public Task UseKmapKeepsComments() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
        // source pages
        var a = buf.KmapAtomic(0);
        var b = buf.KmapAtomic(1);
        // the target page
        var c = {|DMA0004:buf.KmapAtomic(2 /* last */)|}; // target
        a.Span.CopyTo(c.Span);
        b.Span.CopyTo(c.Span);
        buf.KunmapAtomic(2, c); // done with the target
        buf.KunmapAtomic(1, b);
        buf.KunmapAtomic(0, a);
        buf.EndCpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
    }"), Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
        // the target page
        var c = buf.Kmap(2 /* last */); // target
        // source pages
        var a = buf.KmapAtomic(0);
        var b = buf.KmapAtomic(1);
        a.Span.CopyTo(c.Span);
        b.Span.CopyTo(c.Span);
        buf.Kunmap(2, c); // done with the target
        buf.KunmapAtomic(1, b);
        buf.KunmapAtomic(0, a);
        buf.EndCpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
    }"), Key);

    [Fact]
    public Task NoFixWhenThePageIsComputedBetween() => Verify.VerifyNoFixAsync(Verify.Class(@"
    void M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
        var a = buf.KmapAtomic(0);
        var b = buf.KmapAtomic(1);
        long n = a.Span[0] + b.Span[0] > 0 ? 2 : 2;
        var c = {|DMA0004:buf.KmapAtomic(n)|};
        a.Span.CopyTo(c.Span);
        buf.KunmapAtomic(n, c);
        buf.KunmapAtomic(1, b);
        buf.KunmapAtomic(0, a);
        buf.EndCpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional);
    }"), Key);

    // A window carried across iterations: the pages rotate through the locals, so every atomic mapping that can flow
    // into them is mapped with Kmap, and every unmap of them is a Kunmap, where they stand.
    [Fact]
    public Task SlidingWindowIsMappedWithKmap() => Verify.VerifyAsync(Verify.Class(@"
    int M(DmaBufExporter exporter)
    {
        var buf = DmaBuffer.Export(exporter, 4 * DmaBuffer.PageSize);
        int sum = 0;
        buf.BeginCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        DmaBufPage older = buf.KmapAtomic(0);
        DmaBufPage old = buf.KmapAtomic(1); // second
        for (long p = 2; p < 4; p++)
        {
            var cur = {|DMA0004:buf.KmapAtomic(p)|};
            sum += cur.Span[0] + old.Span[0] + older.Span[0];
            buf.KunmapAtomic(p - 2, older);
            older = old;
            old = cur;
        }

        buf.KunmapAtomic(2, older);
        buf.KunmapAtomic(3, old);
        buf.EndCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        buf.Put();
        return sum;
    }"), Verify.Class(@"
    int M(DmaBufExporter exporter)
    {
        var buf = DmaBuffer.Export(exporter, 4 * DmaBuffer.PageSize);
        int sum = 0;
        buf.BeginCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        DmaBufPage older = buf.Kmap(0);
        DmaBufPage old = buf.Kmap(1); // second
        for (long p = 2; p < 4; p++)
        {
            var cur = buf.Kmap(p);
            sum += cur.Span[0] + old.Span[0] + older.Span[0];
            buf.Kunmap(p - 2, older);
            older = old;
            old = cur;
        }

        buf.Kunmap(2, older);
        buf.Kunmap(3, old);
        buf.EndCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        buf.Put();
        return sum;
    }"), Key);

    // The same window in a while loop, the newest page declared from the map and copied by a declaration.
    [Fact]
    public Task WhileWindowWithACopiedDeclarationIsMappedWithKmap() => Verify.VerifyAsync(Verify.Class(@"
    void M()
    {
        var buffer = DmaBuffer.Export(new SystemHeapExporter(), 4 * DmaBuffer.PageSize);
        buffer.BeginCpuAccess(0, buffer.Size, DmaDataDirection.Bidirectional);
        var first = buffer.KmapAtomic(0);
        var second = buffer.KmapAtomic(1);
        long n = 2;
        while (n < 4)
        {
            DmaBufPage mapped = {|DMA0004:buffer.KmapAtomic(n)|};
            var third = mapped;
            third.Span[0] = (byte)(first.Span[0] ^ second.Span[0]);
            buffer.KunmapAtomic(n - 2, first);
            first = second;
            second = third;
            n++;
        }

        buffer.KunmapAtomic(2, first);
        buffer.KunmapAtomic(3, second);
        buffer.EndCpuAccess(0, buffer.Size, DmaDataDirection.Bidirectional);
        buffer.Put();
    }"), Verify.Class(@"
    void M()
    {
        var buffer = DmaBuffer.Export(new SystemHeapExporter(), 4 * DmaBuffer.PageSize);
        buffer.BeginCpuAccess(0, buffer.Size, DmaDataDirection.Bidirectional);
        var first = buffer.Kmap(0);
        var second = buffer.Kmap(1);
        long n = 2;
        while (n < 4)
        {
            DmaBufPage mapped = buffer.Kmap(n);
            var third = mapped;
            third.Span[0] = (byte)(first.Span[0] ^ second.Span[0]);
            buffer.Kunmap(n - 2, first);
            first = second;
            second = third;
            n++;
        }

        buffer.Kunmap(2, first);
        buffer.Kunmap(3, second);
        buffer.EndCpuAccess(0, buffer.Size, DmaDataDirection.Bidirectional);
        buffer.Put();
    }"), Key);

    // An atomic mapping of another buffer is held across the window: a Kmap there may block with it held.
    [Fact]
    public Task NoWindowFixWhileAnotherAtomicMappingIsHeld() => Verify.VerifyNoFixAsync(Verify.Class(@"
    void M(DmaBuffer target)
    {
        var buf = DmaBuffer.Export(new SystemHeapExporter(), 4 * DmaBuffer.PageSize);
        target.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        buf.BeginCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        var dst = target.KmapAtomic(0);
        DmaBufPage older = buf.KmapAtomic(0);
        DmaBufPage old = {|DMA0004:buf.KmapAtomic(1)|};
        for (long p = 2; p < 4; p++)
        {
            var cur = {|DMA0004:buf.KmapAtomic(p)|};
            dst.Span[0] ^= (byte)(cur.Span[0] + old.Span[0] + older.Span[0]);
            buf.KunmapAtomic(p - 2, older);
            older = old;
            old = cur;
        }

        buf.KunmapAtomic(2, older);
        buf.KunmapAtomic(3, old);
        target.KunmapAtomic(0, dst);
        buf.EndCpuAccess(0, buf.Size, DmaDataDirection.FromDevice);
        target.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.ToDevice);
        buf.Put();
    }"), Key);

    // A local function maps the third page while the caller holds two: the caller's later mapping becomes Kmap, moved
    // up before the other, where no atomic mapping is held.
    [Fact]
    public Task CallThatMapsWhileTwoAreHeldMapsTheLaterHeldOneWithKmap() => Verify.VerifyAsync(Verify.Class(@"
    int M(DmaBuffer buf)
    {
        using var access = buf.CpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        var first = buf.KmapAtomic(0);
        var second = buf.KmapAtomic(1);
        int value = first.Span[0] + second.Span[0] + {|DMA0004:Third()|};
        buf.KunmapAtomic(1, second);
        buf.KunmapAtomic(0, first);
        return value;

        int Third()
        {
            var third = buf.KmapAtomic(2);
            int b = third.Span[0];
            buf.KunmapAtomic(2, third);
            return b;
        }
    }"), Verify.Class(@"
    int M(DmaBuffer buf)
    {
        using var access = buf.CpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        var second = buf.Kmap(1);
        var first = buf.KmapAtomic(0);
        int value = first.Span[0] + second.Span[0] + Third();
        buf.Kunmap(1, second);
        buf.KunmapAtomic(0, first);
        return value;

        int Third()
        {
            var third = buf.KmapAtomic(2);
            int b = third.Span[0];
            buf.KunmapAtomic(2, third);
            return b;
        }
    }"), Key);

    // The same through a helper method of the class.
    [Fact]
    public Task HelperThatMapsWhileTwoAreHeldMapsTheLaterHeldOneWithKmap() => Verify.VerifyAsync(Verify.Class(@"
    static byte Peek(DmaBuffer b, long page)
    {
        var mapped = b.KmapAtomic(page);
        byte value = mapped.Span[0];
        b.KunmapAtomic(page, mapped);
        return value;
    }

    int M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        var a = buf.KmapAtomic(0);
        var b = buf.KmapAtomic(1);
        int sum = a.Span[0] ^ b.Span[0] ^ {|DMA0004:Peek(buf, 2)|};
        buf.KunmapAtomic(1, b);
        buf.KunmapAtomic(0, a);
        buf.EndCpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        return sum;
    }"), Verify.Class(@"
    static byte Peek(DmaBuffer b, long page)
    {
        var mapped = b.KmapAtomic(page);
        byte value = mapped.Span[0];
        b.KunmapAtomic(page, mapped);
        return value;
    }

    int M(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        var b = buf.Kmap(1);
        var a = buf.KmapAtomic(0);
        int sum = a.Span[0] ^ b.Span[0] ^ Peek(buf, 2);
        buf.Kunmap(1, b);
        buf.KunmapAtomic(0, a);
        buf.EndCpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        return sum;
    }"), Key);

    // The later mapping's page is computed from the first mapping: it cannot move before it.
    [Fact]
    public Task NoFixForACallWhenTheLaterHeldPageDependsOnTheFirst() => Verify.VerifyNoFixAsync(Verify.Class(@"
    int M(DmaBuffer buf)
    {
        using var access = buf.CpuAccess(0, 3 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        var first = buf.KmapAtomic(0);
        long next = first.Span[0] == 0 ? 1 : 2;
        var second = buf.KmapAtomic(next);
        int value = first.Span[0] + second.Span[0] + {|DMA0004:Third()|};
        buf.KunmapAtomic(next, second);
        buf.KunmapAtomic(0, first);
        return value;

        int Third()
        {
            var third = buf.KmapAtomic(2);
            int b = third.Span[0];
            buf.KunmapAtomic(2, third);
            return b;
        }
    }"), Key);
}
