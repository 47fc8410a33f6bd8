// The synthetic code the analyzer benchmarks compile: N methods of every rule's shapes, right and wrong, among methods
// that touch no buffer, written against the runtime or against an IDisposable stand-in that does not use it.
using System;
using System.Collections.Generic;
using System.Text;

namespace DmaBuf.Benchmarks;

/// <summary>Which flavour of the synthetic methods to write.</summary>
public enum SourceFlavour
{
    /// <summary>Real dma-buf code against DmaBuf.Runtime: what the DMA analyzers look at.</summary>
    DmaBuf,

    /// <summary>
    /// The same methods, control flow and calls against a stand-in API of IDisposable scopes and pages that does not
    /// reference DmaBuf.Runtime: begin/end CPU access becomes create/Dispose of a scope, kmap/kunmap create/Dispose of
    /// a page. This is what CA2000 looks at, and the compilation the DMA analyzers must skip for free.
    /// </summary>
    Disposable,
}

/// <summary>
/// Writes a synthetic compilation of N methods of dma-buf code: every rule's shapes (DMA0001–DMA0011), correct and
/// wrong, with loops, try/finally, using, branches, switches, explicit throws, local functions, lambdas, async and
/// calls between methods, plus methods that do not touch a buffer at all, as real code has.
/// </summary>
public static class SyntheticSources
{
    /// <summary>Methods per generated class (and syntax tree).</summary>
    public const int MethodsPerClass = 50;

    private delegate void Template(StringBuilder sb, Writer w, int i);

    private static readonly Template[] Templates =
    {
        BeginKmapAtomicEnd,
        UsingScopes,
        EarlyReturnLeavesAccessBegun,
        TryFinallyLoop,
        LoopKeepsAtomicMappings,
        BlockingUnderAtomic,
        KmapOutsideBegunRange,
        KmapWithoutAccess,
        MismatchedEnd,
        ThreeAtomicThroughCalls,
        BlockingThroughCallChain,
        SwitchBranches,
        WhileBreakContinue,
        ThrowWhileBegun,
        UsingDeclarations,
        WrongUnmapCall,
        KmapOtherBuffer,
        PlainArithmetic,
        AwaitUnderAtomic,
        LocalFunctionAndLambda,
        PlainStrings,
        NestedBranchesCorrect,
        SharingCorrect,
        SharingLeaksOnEarlyReturn,
        UseAfterLastPut,
    };

    /// <summary>The number of distinct method shapes.</summary>
    public static int ShapeCount => Templates.Length;

    /// <summary>Writes the sources: one tree per class of <see cref="MethodsPerClass"/> methods, plus the stand-in API for the disposable flavour.</summary>
    /// <param name="methods">N, the number of methods (helpers that some shapes call come on top, about 10%).</param>
    /// <param name="flavour">The flavour.</param>
    /// <returns>The source texts.</returns>
    public static IReadOnlyList<string> Create(int methods, SourceFlavour flavour)
    {
        var w = new Writer(flavour);
        var sources = new List<string>();
        if (flavour == SourceFlavour.Disposable)
        {
            sources.Add(StandInApi);
        }

        for (int first = 0, cls = 0; first < methods; first += MethodsPerClass, cls++)
        {
            var sb = new StringBuilder();
            sb.AppendLine("using System;");
            sb.AppendLine("using System.Collections.Generic;");
            sb.AppendLine("using System.Threading;");
            sb.AppendLine("using System.Threading.Tasks;");
            sb.AppendLine(flavour == SourceFlavour.DmaBuf ? "using DmaBuf;" : "using Sim.Fake;");
            sb.AppendLine();
            sb.AppendLine("namespace Sim;");
            sb.AppendLine();
            sb.AppendLine($"public static class Methods{cls}");
            sb.AppendLine("{");
            int last = Math.Min(methods, first + MethodsPerClass);
            for (int i = first; i < last; i++)
            {
                Templates[i % Templates.Length](sb, w, i);
                sb.AppendLine();
            }

            sb.AppendLine("}");

            // One exporter per class: an atomic callback that blocks (DMA0008) and one that does not.
            sb.AppendLine();
            sb.AppendLine($"public sealed class Exporter{cls} : DmaBufExporter");
            sb.AppendLine("{");
            sb.AppendLine("    private readonly object _gate = new();");
            sb.AppendLine("    private readonly nint _base = 4096;");
            sb.AppendLine("    protected override ScatterGatherTable MapDmaBuf(DmaBufAttachment attachment, DmaDataDirection direction) => new ScatterGatherTable(Array.Empty<ScatterGatherEntry>());");
            sb.AppendLine("    protected override void UnmapDmaBuf(DmaBufAttachment attachment, ScatterGatherTable table) { }");
            sb.AppendLine("    protected override void Release(DmaBuffer buffer) { }");
            sb.AppendLine($"    protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber) {{ lock (_gate) {{ return _base + (nint)(pageNumber * {cls + 1}); }} }}");
            sb.AppendLine("    protected override void KunmapAtomic(DmaBuffer buffer, long pageNumber, nint address) { Interlocked.MemoryBarrier(); }");
            sb.AppendLine("    protected override nint Kmap(DmaBuffer buffer, long pageNumber) { Thread.Sleep(0); return _base + (nint)pageNumber; }");
            sb.AppendLine("}");
            sources.Add(sb.ToString());
        }

        return sources;
    }

    // Correct: begin, one atomic page, unmap, end.
    private static void BeginKmapAtomicEnd(StringBuilder sb, Writer w, int i)
    {
        sb.AppendLine($"    public static int M{i}(DmaBuffer buf)");
        sb.AppendLine("    {");
        sb.AppendLine($"        {w.Begin("a", "0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice")}");
        sb.AppendLine("        var page = buf.KmapAtomic(1);");
        sb.AppendLine($"        int s = page.Span[0] + {i};");
        sb.AppendLine($"        {w.UnmapAtomic("page", "1")}");
        sb.AppendLine($"        {w.End("a", "0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice")}");
        sb.AppendLine("        return s;");
        sb.AppendLine("    }");
    }

    // Correct: using scope and using page.
    private static void UsingScopes(StringBuilder sb, Writer w, int i)
    {
        sb.AppendLine($"    public static void M{i}(DmaBuffer buf, byte value)");
        sb.AppendLine("    {");
        sb.AppendLine("        using (buf.CpuAccess(0, 4 * DmaBuffer.PageSize, DmaDataDirection.Bidirectional))");
        sb.AppendLine("        using (var page = buf.KmapAtomic(2))");
        sb.AppendLine("        {");
        sb.AppendLine($"            page.Span[{i % 4096}] = value;");
        sb.AppendLine("        }");
        sb.AppendLine("    }");
    }

    // Wrong (DMA0001): an early return on one branch leaves the access begun.
    private static void EarlyReturnLeavesAccessBegun(StringBuilder sb, Writer w, int i)
    {
        sb.AppendLine($"    public static int M{i}(DmaBuffer buf, bool quick)");
        sb.AppendLine("    {");
        sb.AppendLine($"        {w.Begin("a", "0, DmaBuffer.PageSize, DmaDataDirection.FromDevice")}");
        sb.AppendLine("        if (quick)");
        sb.AppendLine("        {");
        sb.AppendLine($"            return -{i};");
        sb.AppendLine("        }");
        sb.AppendLine("        var p = buf.Kmap(0);");
        sb.AppendLine("        int s = p.Span[1];");
        sb.AppendLine($"        {w.Unmap("p", "0")}");
        sb.AppendLine($"        {w.End("a", "0, DmaBuffer.PageSize, DmaDataDirection.FromDevice")}");
        sb.AppendLine("        return s;");
        sb.AppendLine("    }");
    }

    // Correct: try/finally around a loop of atomic page copies.
    private static void TryFinallyLoop(StringBuilder sb, Writer w, int i)
    {
        sb.AppendLine($"    public static long M{i}(DmaBuffer buf, byte[] into)");
        sb.AppendLine("    {");
        sb.AppendLine("        long sum = 0;");
        sb.AppendLine($"        {w.Begin("a", "0, 8 * DmaBuffer.PageSize, DmaDataDirection.FromDevice")}");
        sb.AppendLine("        try");
        sb.AppendLine("        {");
        sb.AppendLine("            for (long p = 0; p < 8; p++)");
        sb.AppendLine("            {");
        sb.AppendLine("                var page = buf.KmapAtomic(p);");
        sb.AppendLine("                page.Span.CopyTo(into.AsSpan((int)(p * DmaBuffer.PageSize)));");
        sb.AppendLine($"                sum += page.Span[{i % 64}];");
        sb.AppendLine($"                {w.UnmapAtomic("page", "p")}");
        sb.AppendLine("            }");
        sb.AppendLine("        }");
        sb.AppendLine("        finally");
        sb.AppendLine("        {");
        sb.AppendLine($"            {w.End("a", "0, 8 * DmaBuffer.PageSize, DmaDataDirection.FromDevice")}");
        sb.AppendLine("        }");
        sb.AppendLine("        return sum;");
        sb.AppendLine("    }");
    }

    // Wrong (DMA0003, DMA0004): a loop that keeps an atomic mapping across iterations.
    private static void LoopKeepsAtomicMappings(StringBuilder sb, Writer w, int i)
    {
        sb.AppendLine($"    public static int M{i}(DmaBuffer buf)");
        sb.AppendLine("    {");
        sb.AppendLine("        int sum = 0;");
        sb.AppendLine($"        {w.Begin("a", "0, 4 * DmaBuffer.PageSize, DmaDataDirection.FromDevice")}");
        sb.AppendLine("        for (int k = 0; k < 3; k++)");
        sb.AppendLine("        {");
        sb.AppendLine("            var page = buf.KmapAtomic(k);");
        sb.AppendLine($"            sum += page.Span[{i % 128}];");
        sb.AppendLine("        }");
        sb.AppendLine($"        {w.End("a", "0, 4 * DmaBuffer.PageSize, DmaDataDirection.FromDevice")}");
        sb.AppendLine("        return sum;");
        sb.AppendLine("    }");
    }

    // Wrong (DMA0005): sleeping and locking while an atomic mapping is held.
    private static void BlockingUnderAtomic(StringBuilder sb, Writer w, int i)
    {
        sb.AppendLine($"    private static readonly object s_gate{i} = new();");
        sb.AppendLine($"    public static void M{i}(DmaBuffer buf)");
        sb.AppendLine("    {");
        sb.AppendLine($"        {w.Begin("a", "0, DmaBuffer.PageSize, DmaDataDirection.ToDevice")}");
        sb.AppendLine("        var page = buf.KmapAtomic(0);");
        sb.AppendLine("        Thread.Sleep(1);");
        sb.AppendLine($"        lock (s_gate{i})");
        sb.AppendLine("        {");
        sb.AppendLine($"            page.Span[0] = {i % 256};");
        sb.AppendLine("        }");
        sb.AppendLine($"        {w.UnmapAtomic("page", "0")}");
        sb.AppendLine($"        {w.End("a", "0, DmaBuffer.PageSize, DmaDataDirection.ToDevice")}");
        sb.AppendLine("    }");
    }

    // Wrong (DMA0006): a kmap outside the begun page span.
    private static void KmapOutsideBegunRange(StringBuilder sb, Writer w, int i)
    {
        sb.AppendLine($"    public static byte M{i}(DmaBuffer buf)");
        sb.AppendLine("    {");
        sb.AppendLine($"        {w.Begin("a", "0, DmaBuffer.PageSize, DmaDataDirection.FromDevice")}");
        sb.AppendLine($"        var page = buf.KmapAtomic({5 + (i % 7)});");
        sb.AppendLine("        byte b = page.Span[0];");
        sb.AppendLine($"        {w.UnmapAtomic("page", (5 + (i % 7)).ToString(System.Globalization.CultureInfo.InvariantCulture))}");
        sb.AppendLine($"        {w.End("a", "0, DmaBuffer.PageSize, DmaDataDirection.FromDevice")}");
        sb.AppendLine("        return b;");
        sb.AppendLine("    }");
    }

    // Wrong (DMA0007): a kmap with no access begun, and one after the access ended.
    private static void KmapWithoutAccess(StringBuilder sb, Writer w, int i)
    {
        sb.AppendLine($"    public static int M{i}(DmaBuffer buf)");
        sb.AppendLine("    {");
        sb.AppendLine("        var first = buf.Kmap(0);");
        sb.AppendLine($"        int s = first.Span[{i % 512}];");
        sb.AppendLine($"        {w.Unmap("first", "0")}");
        sb.AppendLine($"        {w.Begin("a", "0, DmaBuffer.PageSize, DmaDataDirection.FromDevice")}");
        sb.AppendLine($"        {w.End("a", "0, DmaBuffer.PageSize, DmaDataDirection.FromDevice")}");
        sb.AppendLine("        var late = buf.KmapAtomic(0);");
        sb.AppendLine("        s += late.Span[0];");
        sb.AppendLine($"        {w.UnmapAtomic("late", "0")}");
        sb.AppendLine("        return s;");
        sb.AppendLine("    }");
    }

    // Wrong (DMA0002): an end whose range differs from the begun one; and an end on a path where nothing was begun.
    private static void MismatchedEnd(StringBuilder sb, Writer w, int i)
    {
        sb.AppendLine($"    public static void M{i}(DmaBuffer buf, bool both)");
        sb.AppendLine("    {");
        if (w.Flavour == SourceFlavour.DmaBuf)
        {
            sb.AppendLine("        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);");
            sb.AppendLine("        buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);");
            sb.AppendLine("        if (both)");
            sb.AppendLine("        {");
            sb.AppendLine($"            buf.BeginCpuAccess({i % 8} * DmaBuffer.PageSize, DmaBuffer.PageSize, DmaDataDirection.ToDevice);");
            sb.AppendLine("        }");
            sb.AppendLine($"        buf.EndCpuAccess({i % 8} * DmaBuffer.PageSize, DmaBuffer.PageSize, DmaDataDirection.ToDevice);");
        }
        else
        {
            sb.AppendLine("        var a = buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);");
            sb.AppendLine("        a.Dispose();");
            sb.AppendLine("        CpuAccessScope? b = null;");
            sb.AppendLine("        if (both)");
            sb.AppendLine("        {");
            sb.AppendLine($"            b = buf.BeginCpuAccess({i % 8} * DmaBuffer.PageSize, DmaBuffer.PageSize, DmaDataDirection.ToDevice);");
            sb.AppendLine("        }");
            sb.AppendLine("        b!.Dispose();");
        }

        sb.AppendLine("    }");
    }

    // Wrong (DMA0004): three atomic mappings held at once through a helper in the same compilation.
    private static void ThreeAtomicThroughCalls(StringBuilder sb, Writer w, int i)
    {
        sb.AppendLine($"    private static DmaBufPage Grab{i}(DmaBuffer buf, long n) => buf.KmapAtomic(n);");
        sb.AppendLine($"    public static int M{i}(DmaBuffer buf)");
        sb.AppendLine("    {");
        sb.AppendLine($"        {w.Begin("a", "0, 4 * DmaBuffer.PageSize, DmaDataDirection.FromDevice")}");
        sb.AppendLine($"        var x = Grab{i}(buf, 0);");
        sb.AppendLine($"        var y = Grab{i}(buf, 1);");
        sb.AppendLine($"        var z = Grab{i}(buf, 2);");
        sb.AppendLine("        int s = x.Span[0] + y.Span[0] + z.Span[0];");
        sb.AppendLine($"        {w.UnmapAtomic("z", "2")}");
        sb.AppendLine($"        {w.UnmapAtomic("y", "1")}");
        sb.AppendLine($"        {w.UnmapAtomic("x", "0")}");
        sb.AppendLine($"        {w.End("a", "0, 4 * DmaBuffer.PageSize, DmaDataDirection.FromDevice")}");
        sb.AppendLine("        return s;");
        sb.AppendLine("    }");
    }

    // Wrong (DMA0005): a call chain in the compilation that reaches a sleep, and a [MightSleep] method, under an atomic mapping.
    private static void BlockingThroughCallChain(StringBuilder sb, Writer w, int i)
    {
        sb.AppendLine($"    private static void Settle{i}(int n) {{ if (n > 0) {{ Pause{i}(); }} }}");
        sb.AppendLine($"    private static void Pause{i}() => Thread.Sleep(0);");
        sb.AppendLine("    [MightSleep]");
        sb.AppendLine($"    private static void Declared{i}() {{ }}");
        sb.AppendLine($"    public static void M{i}(DmaBuffer buf, int n)");
        sb.AppendLine("    {");
        sb.AppendLine("        using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.Bidirectional))");
        sb.AppendLine("        {");
        sb.AppendLine("            var page = buf.KmapAtomic(0);");
        sb.AppendLine($"            Settle{i}(n);");
        sb.AppendLine($"            Declared{i}();");
        sb.AppendLine($"            {w.UnmapAtomic("page", "0")}");
        sb.AppendLine("        }");
        sb.AppendLine("    }");
    }

    // Correct: a switch whose every branch maps and unmaps its own page.
    private static void SwitchBranches(StringBuilder sb, Writer w, int i)
    {
        sb.AppendLine($"    public static int M{i}(DmaBuffer buf, int which)");
        sb.AppendLine("    {");
        sb.AppendLine("        int s = 0;");
        sb.AppendLine($"        {w.Begin("a", "0, 3 * DmaBuffer.PageSize, DmaDataDirection.FromDevice")}");
        sb.AppendLine("        switch (which)");
        sb.AppendLine("        {");
        for (int c = 0; c < 3; c++)
        {
            sb.AppendLine($"            case {c}:");
            sb.AppendLine("            {");
            sb.AppendLine($"                var p{c} = buf.KmapAtomic({c});");
            sb.AppendLine($"                s = p{c}.Span[{(i + c) % 4096}];");
            sb.AppendLine($"                {w.UnmapAtomic("p" + c, c.ToString(System.Globalization.CultureInfo.InvariantCulture))}");
            sb.AppendLine("                break;");
            sb.AppendLine("            }");
        }

        sb.AppendLine("            default:");
        sb.AppendLine("                s = -1;");
        sb.AppendLine("                break;");
        sb.AppendLine("        }");
        sb.AppendLine($"        {w.End("a", "0, 3 * DmaBuffer.PageSize, DmaDataDirection.FromDevice")}");
        sb.AppendLine("        return s;");
        sb.AppendLine("    }");
    }

    // Correct: a while loop with break and continue, each page unmapped on every path, access ended in finally.
    private static void WhileBreakContinue(StringBuilder sb, Writer w, int i)
    {
        sb.AppendLine($"    public static int M{i}(DmaBuffer buf, int limit)");
        sb.AppendLine("    {");
        sb.AppendLine("        int found = -1;");
        sb.AppendLine($"        {w.Begin("a", "0, buf.Size, DmaDataDirection.FromDevice")}");
        sb.AppendLine("        try");
        sb.AppendLine("        {");
        sb.AppendLine("            long p = 0;");
        sb.AppendLine("            while (p < buf.PageCount)");
        sb.AppendLine("            {");
        sb.AppendLine("                var page = buf.KmapAtomic(p);");
        sb.AppendLine("                byte b = page.Span[0];");
        sb.AppendLine($"                {w.UnmapAtomic("page", "p")}");
        sb.AppendLine("                p++;");
        sb.AppendLine("                if (b == 0)");
        sb.AppendLine("                {");
        sb.AppendLine("                    continue;");
        sb.AppendLine("                }");
        sb.AppendLine($"                if (b == {i % 256} || p > limit)");
        sb.AppendLine("                {");
        sb.AppendLine("                    found = (int)p;");
        sb.AppendLine("                    break;");
        sb.AppendLine("                }");
        sb.AppendLine("            }");
        sb.AppendLine("        }");
        sb.AppendLine("        finally");
        sb.AppendLine("        {");
        sb.AppendLine($"            {w.End("a", "0, buf.Size, DmaDataDirection.FromDevice")}");
        sb.AppendLine("        }");
        sb.AppendLine("        return found;");
        sb.AppendLine("    }");
    }

    // Wrong (DMA0001, DMA0003): an explicit throw while the access is begun and a page mapped.
    private static void ThrowWhileBegun(StringBuilder sb, Writer w, int i)
    {
        sb.AppendLine($"    public static int M{i}(DmaBuffer buf, int n)");
        sb.AppendLine("    {");
        sb.AppendLine($"        {w.Begin("a", "0, DmaBuffer.PageSize, DmaDataDirection.FromDevice")}");
        sb.AppendLine("        var page = buf.Kmap(0);");
        sb.AppendLine("        if (n < 0)");
        sb.AppendLine("        {");
        sb.AppendLine($"            throw new ArgumentOutOfRangeException(nameof(n), n, \"negative {i}\");");
        sb.AppendLine("        }");
        sb.AppendLine("        int s = page.Span[n % DmaBuffer.PageSize];");
        sb.AppendLine($"        {w.Unmap("page", "0")}");
        sb.AppendLine($"        {w.End("a", "0, DmaBuffer.PageSize, DmaDataDirection.FromDevice")}");
        sb.AppendLine("        return s;");
        sb.AppendLine("    }");
    }

    // Correct: using declarations.
    private static void UsingDeclarations(StringBuilder sb, Writer w, int i)
    {
        sb.AppendLine($"    public static int M{i}(DmaBuffer buf)");
        sb.AppendLine("    {");
        sb.AppendLine("        using var scope = buf.CpuAccess(DmaBuffer.PageSize, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);");
        sb.AppendLine("        using var low = buf.KmapAtomic(1);");
        sb.AppendLine("        using var high = buf.KmapAtomic(2);");
        sb.AppendLine($"        return low.Span[{i % 4096}] + high.Span[0];");
        sb.AppendLine("    }");
    }

    // Wrong (DMA0003): a Kmap unmapped with KunmapAtomic, and a page unmapped under another page number.
    private static void WrongUnmapCall(StringBuilder sb, Writer w, int i)
    {
        sb.AppendLine($"    public static void M{i}(DmaBuffer buf)");
        sb.AppendLine("    {");
        sb.AppendLine($"        {w.Begin("a", "0, 2 * DmaBuffer.PageSize, DmaDataDirection.ToDevice")}");
        sb.AppendLine("        var p = buf.Kmap(0);");
        sb.AppendLine($"        p.Span[0] = {i % 256};");
        sb.AppendLine($"        {w.UnmapAtomic("p", "0")}");
        sb.AppendLine("        var q = buf.KmapAtomic(1);");
        sb.AppendLine("        q.Span[0] = 1;");
        sb.AppendLine($"        {w.UnmapAtomic("q", "0")}");
        sb.AppendLine($"        {w.End("a", "0, 2 * DmaBuffer.PageSize, DmaDataDirection.ToDevice")}");
        sb.AppendLine("    }");
    }

    // Wrong (DMA0007): access begun on one buffer, the page mapped from another.
    private static void KmapOtherBuffer(StringBuilder sb, Writer w, int i)
    {
        sb.AppendLine($"    public static int M{i}(DmaBuffer buf, DmaBuffer other)");
        sb.AppendLine("    {");
        sb.AppendLine($"        {w.Begin("a", "0, DmaBuffer.PageSize, DmaDataDirection.FromDevice")}");
        sb.AppendLine("        var page = other.KmapAtomic(0);");
        sb.AppendLine($"        int s = page.Span[{i % 4096}];");
        sb.AppendLine(w.Flavour == SourceFlavour.DmaBuf ? "        other.KunmapAtomic(0, page);" : "        page.Dispose();");
        sb.AppendLine($"        {w.End("a", "0, DmaBuffer.PageSize, DmaDataDirection.FromDevice")}");
        sb.AppendLine("        return s;");
        sb.AppendLine("    }");
    }

    // No buffer at all: most code in a real compilation.
    private static void PlainArithmetic(StringBuilder sb, Writer w, int i)
    {
        sb.AppendLine($"    public static long M{i}(int[] values)");
        sb.AppendLine("    {");
        sb.AppendLine("        long sum = 0;");
        sb.AppendLine("        for (int k = 0; k < values.Length; k++)");
        sb.AppendLine("        {");
        sb.AppendLine($"            if (values[k] % {(i % 7) + 2} == 0) {{ sum += values[k]; }} else {{ sum -= k; }}");
        sb.AppendLine("        }");
        sb.AppendLine("        try { sum = checked(sum * 2); } catch (OverflowException) { sum = long.MaxValue; }");
        sb.AppendLine("        return sum;");
        sb.AppendLine("    }");
    }

    // Wrong (DMA0005): await while an atomic mapping is held.
    private static void AwaitUnderAtomic(StringBuilder sb, Writer w, int i)
    {
        sb.AppendLine($"    public static async Task<int> M{i}(DmaBuffer buf)");
        sb.AppendLine("    {");
        sb.AppendLine("        using (buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice))");
        sb.AppendLine("        {");
        sb.AppendLine("            var page = buf.KmapAtomic(0);");
        sb.AppendLine("            await Task.Yield();");
        sb.AppendLine($"            {w.UnmapAtomic("page", "0")}");
        sb.AppendLine($"            return {i};");
        sb.AppendLine("        }");
        sb.AppendLine("    }");
    }

    // Correct: the work in a local function and a lambda, each balanced.
    private static void LocalFunctionAndLambda(StringBuilder sb, Writer w, int i)
    {
        sb.AppendLine($"    public static int M{i}(DmaBuffer buf)");
        sb.AppendLine("    {");
        sb.AppendLine("        Func<long, int> read = n =>");
        sb.AppendLine("        {");
        sb.AppendLine("            using var page = buf.KmapAtomic(n);");
        sb.AppendLine("            return page.Span[0];");
        sb.AppendLine("        };");
        sb.AppendLine("        int Sum()");
        sb.AppendLine("        {");
        sb.AppendLine("            int s = 0;");
        sb.AppendLine("            for (long p = 0; p < 2; p++) { s += read(p); }");
        sb.AppendLine("            return s;");
        sb.AppendLine("        }");
        sb.AppendLine($"        {w.Begin("a", "0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice")}");
        sb.AppendLine("        try");
        sb.AppendLine("        {");
        sb.AppendLine($"            return Sum() + {i};");
        sb.AppendLine("        }");
        sb.AppendLine("        finally");
        sb.AppendLine("        {");
        sb.AppendLine($"            {w.End("a", "0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice")}");
        sb.AppendLine("        }");
        sb.AppendLine("    }");
    }

    // No buffer: strings, collections and LINQ-free loops.
    private static void PlainStrings(StringBuilder sb, Writer w, int i)
    {
        sb.AppendLine($"    public static string M{i}(IReadOnlyList<string> names)");
        sb.AppendLine("    {");
        sb.AppendLine("        var seen = new HashSet<string>(StringComparer.Ordinal);");
        sb.AppendLine("        var text = new System.Text.StringBuilder();");
        sb.AppendLine("        foreach (string name in names)");
        sb.AppendLine("        {");
        sb.AppendLine($"            if (name.Length > {i % 11} && seen.Add(name)) {{ text.Append(name).Append(';'); }}");
        sb.AppendLine("        }");
        sb.AppendLine("        return text.ToString();");
        sb.AppendLine("    }");
    }

    // Correct: nested branches, each path ends its own access; atomic pages inside a Kmap.
    private static void NestedBranchesCorrect(StringBuilder sb, Writer w, int i)
    {
        sb.AppendLine($"    public static int M{i}(DmaBuffer buf, bool read, bool twice)");
        sb.AppendLine("    {");
        sb.AppendLine("        int s = 0;");
        sb.AppendLine("        if (read)");
        sb.AppendLine("        {");
        sb.AppendLine($"            {w.Begin("a", "0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice")}");
        sb.AppendLine("            var p = buf.Kmap(0);");
        sb.AppendLine("            s = p.Span[0];");
        sb.AppendLine("            if (twice)");
        sb.AppendLine("            {");
        sb.AppendLine("                var q = buf.KmapAtomic(1);");
        sb.AppendLine($"                s += q.Span[{i % 4096}];");
        sb.AppendLine($"                {w.UnmapAtomic("q", "1")}");
        sb.AppendLine("            }");
        sb.AppendLine($"            {w.Unmap("p", "0")}");
        sb.AppendLine($"            {w.End("a", "0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice")}");
        sb.AppendLine("        }");
        sb.AppendLine("        else");
        sb.AppendLine("        {");
        sb.AppendLine($"            {w.Begin("b", "0, DmaBuffer.PageSize, DmaDataDirection.ToDevice")}");
        sb.AppendLine("            var p = buf.KmapAtomic(0);");
        sb.AppendLine("            p.Span[0] = 7;");
        sb.AppendLine($"            {w.UnmapAtomic("p", "0")}");
        sb.AppendLine($"            {w.End("b", "0, DmaBuffer.PageSize, DmaDataDirection.ToDevice")}");
        sb.AppendLine("        }");
        sb.AppendLine("        return s;");
        sb.AppendLine("    }");
    }

    /// <summary>The API of the disposable flavour: the same names, as IDisposable scopes and pages, without DmaBuf.Runtime.</summary>
    // Correct: export, attach, map, unmap, detach, and the put in a finally block.
    private static void SharingCorrect(StringBuilder sb, Writer w, int i)
    {
        sb.AppendLine($"    public static long M{i}(DmaBufExporter exporter, Device device)");
        sb.AppendLine("    {");
        sb.AppendLine("        var shared = DmaBuffer.Export(exporter, 4 * DmaBuffer.PageSize);");
        sb.AppendLine("        try");
        sb.AppendLine("        {");
        sb.AppendLine("            var attachment = shared.Attach(device);");
        sb.AppendLine("            var table = shared.MapAttachment(attachment, DmaDataDirection.ToDevice);");
        sb.AppendLine($"            long length = table.Entries.Count + {i};");
        sb.AppendLine($"            {w.UnmapAttachment("shared", "attachment", "table")}");
        sb.AppendLine($"            {w.Detach("shared", "attachment")}");
        sb.AppendLine("            return length;");
        sb.AppendLine("        }");
        sb.AppendLine("        finally");
        sb.AppendLine("        {");
        sb.AppendLine($"            {w.Put("shared")}");
        sb.AppendLine("        }");
        sb.AppendLine("    }");
    }

    // Wrong (DMA0009, DMA0010): an early return leaves the table mapped and the imported reference unput.
    private static void SharingLeaksOnEarlyReturn(StringBuilder sb, Writer w, int i)
    {
        sb.AppendLine($"    public static int M{i}(int fd, Device device, bool quick)");
        sb.AppendLine("    {");
        sb.AppendLine("        var imported = DmaBuffer.Get(fd);");
        sb.AppendLine("        var attachment = imported.Attach(device);");
        sb.AppendLine("        var table = imported.MapAttachment(attachment, DmaDataDirection.FromDevice);");
        sb.AppendLine("        if (quick)");
        sb.AppendLine("        {");
        sb.AppendLine("            return table.Entries.Count;");
        sb.AppendLine("        }");
        sb.AppendLine($"        {w.UnmapAttachment("imported", "attachment", "table")}");
        sb.AppendLine($"        {w.Detach("imported", "attachment")}");
        sb.AppendLine($"        {w.Put("imported")}");
        sb.AppendLine($"        return {i};");
        sb.AppendLine("    }");
    }

    // Wrong (DMA0011): a use after the last put; and a second buffer handed to a list (it escapes: silent).
    private static void UseAfterLastPut(StringBuilder sb, Writer w, int i)
    {
        sb.AppendLine($"    public static long M{i}(DmaBufExporter exporter, List<DmaBuffer> keep)");
        sb.AppendLine("    {");
        sb.AppendLine("        var first = DmaBuffer.Export(exporter, DmaBuffer.PageSize);");
        sb.AppendLine($"        {w.Put("first")}");
        sb.AppendLine("        long size = first.Size;");
        sb.AppendLine("        var second = DmaBuffer.Export(exporter, 2 * DmaBuffer.PageSize);");
        sb.AppendLine("        keep.Add(second);");
        sb.AppendLine($"        return size + {i};");
        sb.AppendLine("    }");
    }

    private const string StandInApi = """
        using System;
        using System.Collections.Generic;

        namespace Sim.Fake;

        public enum DmaDataDirection { Bidirectional = 0, ToDevice = 1, FromDevice = 2, None = 3 }

        [AttributeUsage(AttributeTargets.Method)]
        public sealed class MightSleepAttribute : Attribute { }

        public sealed class CpuAccessScope : IDisposable
        {
            private readonly DmaBuffer _buffer;
            public CpuAccessScope(DmaBuffer buffer) => _buffer = buffer;
            public void Dispose() => _buffer.Ended();
        }

        public sealed class DmaBufPage : IDisposable
        {
            private readonly byte[] _bytes = new byte[DmaBuffer.PageSize];
            public Span<byte> Span => _bytes;
            public void Dispose() => Array.Clear(_bytes);
        }

        public readonly record struct ScatterGatherEntry(ulong DmaAddress, long Length);

        public sealed class ScatterGatherTable : IDisposable
        {
            public ScatterGatherTable(IEnumerable<ScatterGatherEntry> entries) => Entries = new List<ScatterGatherEntry>(entries);
            public IReadOnlyList<ScatterGatherEntry> Entries { get; }
            public void Dispose() { }
        }

        public sealed class Device
        {
            public Device(string name) => Name = name;
            public string Name { get; }
        }

        public sealed class DmaBufAttachment : IDisposable
        {
            public void Dispose() { }
        }

        public sealed class DmaBuffer : IDisposable
        {
            public const int PageSize = 4096;
            public static DmaBuffer Export(DmaBufExporter exporter, long size) => new DmaBuffer();
            public static DmaBuffer Get(int fd) => new DmaBuffer();
            public DmaBufAttachment Attach(Device device) => new DmaBufAttachment();
            public ScatterGatherTable MapAttachment(DmaBufAttachment attachment, DmaDataDirection direction) => new ScatterGatherTable(Array.Empty<ScatterGatherEntry>());
            public void Dispose() { }
            private int _begun;
            public long Size { get; } = 16 * PageSize;
            public long PageCount => Size / PageSize;
            public CpuAccessScope BeginCpuAccess(long start, long length, DmaDataDirection direction) { _begun++; return new CpuAccessScope(this); }
            public CpuAccessScope CpuAccess(long start, long length, DmaDataDirection direction) => BeginCpuAccess(start, length, direction);
            public DmaBufPage KmapAtomic(long pageNumber) => new DmaBufPage();
            public DmaBufPage Kmap(long pageNumber) => new DmaBufPage();
            internal void Ended() => _begun--;
        }

        public abstract class DmaBufExporter
        {
            protected abstract ScatterGatherTable MapDmaBuf(DmaBufAttachment attachment, DmaDataDirection direction);
            protected abstract void UnmapDmaBuf(DmaBufAttachment attachment, ScatterGatherTable table);
            protected abstract void Release(DmaBuffer buffer);
            protected abstract nint KmapAtomic(DmaBuffer buffer, long pageNumber);
            protected virtual void KunmapAtomic(DmaBuffer buffer, long pageNumber, nint address) { }
            protected abstract nint Kmap(DmaBuffer buffer, long pageNumber);
        }
        """;

    /// <summary>Writes the lines that differ between the flavours.</summary>
    private sealed class Writer
    {
        public Writer(SourceFlavour flavour) => Flavour = flavour;

        public SourceFlavour Flavour { get; }

        private bool Dma => Flavour == SourceFlavour.DmaBuf;

        public string Begin(string scope, string args) =>
            Dma ? $"buf.BeginCpuAccess({args});" : $"var {scope} = buf.BeginCpuAccess({args});";

        public string End(string scope, string args) =>
            Dma ? $"buf.EndCpuAccess({args});" : $"{scope}.Dispose();";

        public string UnmapAtomic(string page, string number) =>
            Dma ? $"buf.KunmapAtomic({number}, {page});" : $"{page}.Dispose();";

        public string Unmap(string page, string number) =>
            Dma ? $"buf.Kunmap({number}, {page});" : $"{page}.Dispose();";

        public string UnmapAttachment(string buffer, string attachment, string table) =>
            Dma ? $"{buffer}.UnmapAttachment({attachment}, {table});" : $"{table}.Dispose();";

        public string Detach(string buffer, string attachment) =>
            Dma ? $"{buffer}.Detach({attachment});" : $"{attachment}.Dispose();";

        public string Put(string buffer) =>
            Dma ? $"{buffer}.Put();" : $"{buffer}.Dispose();";
    }
}
