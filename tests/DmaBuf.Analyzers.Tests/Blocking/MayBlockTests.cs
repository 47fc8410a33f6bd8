// The blocking analysis asked directly: reasons that name the chain down to the blocking line, through cycles and in
// any order of queries, concurrent queries, cancellation, lowered lock/using/foreach, look-alike runtimes and the
// global option.
using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using DmaBuf.Analyzers.Blocking;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace DmaBuf.Analyzers.Tests.Blocking;

/// <summary>
/// BlockingAnalysis.MayBlock called directly: reasons, summaries through cycles, concurrent queries, cancellation.
/// </summary>
/// <remarks>
/// Deliberately silent, and why: a method of a look-alike type is never the runtime's; an abstract method has no
/// body to look into; an iterator does not run its body when called.
/// </remarks>
public sealed class MayBlockTests
{
    private static async Task<(Compilation Compilation, BlockingAnalysis Analysis)> CreateAsync(string source)
    {
        Compilation compilation = await BlockingTestCompilation.CreateAsync(source);
        KnownSymbols symbols = KnownSymbols.Create(compilation) ?? throw new Xunit.Sdk.XunitException("DmaBuf.Runtime is not referenced");
        return (compilation, BlockingAnalysis.Create(compilation, symbols, new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty)));
    }

    [Fact]
    public async Task Reasons_NameTheChainDownToTheBlockingOperationAndItsLine()
    {
        var (compilation, analysis) = await CreateAsync("""
            using System.Threading;
            using DmaBuf;

            class C
            {
                void Outer() => Inner();
                void Inner()
                {
                    Thread.Sleep(1);
                }
                [MightSleep] void Marked() { }
                void Quiet() { }
                System.Collections.Generic.IEnumerable<int> Lazy() { Thread.Sleep(1); yield break; }
                abstract class A { public abstract void M(); }
            }
            """);

        Assert.True(analysis.MayBlock(BlockingTestCompilation.Method(compilation, "C", "Outer"), CancellationToken.None, out string? outer));
        Assert.Equal("(→ Inner → Thread.Sleep at line 9)", outer);
        Assert.True(analysis.MayBlock(BlockingTestCompilation.Method(compilation, "C", "Inner"), CancellationToken.None, out string? inner));
        Assert.Equal("(→ Thread.Sleep at line 9)", inner);
        Assert.True(analysis.MayBlock(BlockingTestCompilation.Method(compilation, "C", "Marked"), CancellationToken.None, out string? marked));
        Assert.Equal("it is marked [MightSleep]", marked);
        Assert.False(analysis.MayBlock(BlockingTestCompilation.Method(compilation, "C", "Quiet"), CancellationToken.None, out string? quiet));
        Assert.Null(quiet);
        Assert.False(analysis.MayBlock(BlockingTestCompilation.Method(compilation, "C", "Lazy"), CancellationToken.None, out _));
        Assert.False(analysis.MayBlock(BlockingTestCompilation.Method(compilation, "C+A", "M"), CancellationToken.None, out _));

        IMethodSymbol sleep = compilation.GetTypesByMetadataName("System.Threading.Thread").First().GetMembers("Sleep").OfType<IMethodSymbol>().First();
        Assert.True(analysis.MayBlock(sleep, CancellationToken.None, out string? bcl));
        Assert.Equal("it is a blocking call of the base class library", bcl);
    }

    [Fact]
    public async Task Cycles_ReasonsAlwaysLeadToTheRealBlockingCall()
    {
        var (compilation, analysis) = await CreateAsync("""
            using System.Threading;

            class C
            {
                void A() { B(); }
                void B() { A(); C2(); }
                void C2() { B(); Thread.Sleep(1); }
                void X() { Y(); }
                void Y() { X(); }
            }
            """);

        Assert.True(analysis.MayBlock(BlockingTestCompilation.Method(compilation, "C", "A"), CancellationToken.None, out string? a));
        Assert.Equal("(→ B → C2 → Thread.Sleep at line 7)", a);
        Assert.True(analysis.MayBlock(BlockingTestCompilation.Method(compilation, "C", "B"), CancellationToken.None, out string? b));
        Assert.Equal("(→ C2 → Thread.Sleep at line 7)", b);
        Assert.True(analysis.MayBlock(BlockingTestCompilation.Method(compilation, "C", "C2"), CancellationToken.None, out string? c));
        Assert.Equal("(→ Thread.Sleep at line 7)", c);
        Assert.False(analysis.MayBlock(BlockingTestCompilation.Method(compilation, "C", "X"), CancellationToken.None, out _));
        Assert.False(analysis.MayBlock(BlockingTestCompilation.Method(compilation, "C", "Y"), CancellationToken.None, out _));
    }

    [Fact]
    public async Task ConcurrentQueries_AgreeWithSequentialOnes()
    {
        // A ring of 200 methods, each calling the next and one further; only M150 blocks, so all of them do.
        // A second ring with no blocking call at all never blocks.
        var source = new StringBuilder("using System.Threading;\nclass C\n{\n");
        for (int i = 0; i < 200; i++)
        {
            source.Append($"    void M{i}() {{ M{(i + 1) % 200}(); M{(i + 7) % 200}(); {(i == 150 ? "Thread.Sleep(1);" : string.Empty)} }}\n");
            source.Append($"    void Q{i}() {{ Q{(i + 1) % 200}(); Q{(i + 13) % 200}(); }}\n");
        }

        source.Append("}\n");
        var (compilation, analysis) = await CreateAsync(source.ToString());
        var results = new ConcurrentDictionary<string, bool>();
        Parallel.For(0, 400, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            string name = (i % 2 == 0 ? "M" : "Q") + ((i * 37) % 200);
            results[name] = analysis.MayBlock(BlockingTestCompilation.Method(compilation, "C", name), CancellationToken.None, out _);
        });

        Assert.All(results.Where(r => r.Key[0] == 'M'), r => Assert.True(r.Value, r.Key));
        Assert.All(results.Where(r => r.Key[0] == 'Q'), r => Assert.False(r.Value, r.Key));
    }

    [Fact]
    public async Task Reasons_DoNotDependOnTheOrderOfQueries()
    {
        // Each method calls two others and a few block; whichever method is asked first, every reason is the same.
        var source = new StringBuilder("using System.Threading;\nclass C\n{\n");
        for (int i = 0; i < 60; i++)
        {
            source.Append($"    void M{i}() {{ M{(i * 7 + 3) % 60}(); M{(i + 1) % 60}(); {(i % 17 == 5 ? "Thread.Sleep(1);" : string.Empty)} }}\n");
        }

        source.Append("}\n");
        var (compilation, forward) = await CreateAsync(source.ToString());
        KnownSymbols symbols = KnownSymbols.Create(compilation)!;
        BlockingAnalysis backward = BlockingAnalysis.Create(compilation, symbols, new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty));
        BlockingAnalysis parallel = BlockingAnalysis.Create(compilation, symbols, new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty));

        string?[] Reasons(BlockingAnalysis analysis, System.Collections.Generic.IEnumerable<int> order)
        {
            var reasons = new string?[60];
            foreach (int i in order)
            {
                analysis.MayBlock(BlockingTestCompilation.Method(compilation, "C", "M" + i), CancellationToken.None, out reasons[i]);
            }

            return reasons;
        }

        string?[] expected = Reasons(forward, Enumerable.Range(0, 60));
        Assert.Equal(expected, Reasons(backward, Enumerable.Range(0, 60).Reverse()));
        Parallel.For(0, 60, i => parallel.MayBlock(BlockingTestCompilation.Method(compilation, "C", "M" + ((i * 13) % 60)), CancellationToken.None, out _));
        Assert.Equal(expected, Reasons(parallel, Enumerable.Range(0, 60)));
        Assert.All(expected, Assert.NotNull);
    }

    [Fact]
    public async Task Cancellation_IsHonoured()
    {
        var (compilation, analysis) = await CreateAsync("""
            using System.Threading;
            class C { void A() => B(); void B() => Thread.Sleep(1); }
            """);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<System.OperationCanceledException>(() => analysis.MayBlock(BlockingTestCompilation.Method(compilation, "C", "A"), cancelled.Token, out _));

        // Nothing half-computed was kept: the next query still gets the right answer.
        Assert.True(analysis.MayBlock(BlockingTestCompilation.Method(compilation, "C", "A"), CancellationToken.None, out _));
    }

    [Fact]
    public async Task KnownSymbols_IgnoreALookAlikeRuntimeDeclaredInSource()
    {
        Compilation compilation = await BlockingTestCompilation.CreateAsync("""
            namespace DmaBuf
            {
                public sealed class DmaBuffer { public void Kmap(long page) { } }
            }
            """);

        KnownSymbols? symbols = KnownSymbols.Create(compilation);
        Assert.NotNull(symbols);
        Assert.Equal("DmaBuf.Runtime", symbols!.DmaBuffer.ContainingAssembly.Name);
        Assert.Equal("DmaBuf.Runtime", symbols.ExporterKmapAtomic.ContainingAssembly.Name);
        Assert.Equal(2, symbols.ExporterKmapAtomic.Parameters.Length);
        Assert.Equal(3, symbols.ExporterKunmapAtomic.Parameters.Length);
    }

    [Fact]
    public async Task ControlFlowGraph_LoweredLockUsingAndForeachAreStillSeen()
    {
        // Flow-sensitive rules ask about the operations of a ControlFlowGraph, where 'lock' is Monitor.Enter and a
        // 'using' is an explicit Dispose call through IDisposable: the analysis must see through both.
        var (compilation, analysis) = await CreateAsync("""
            using System.Threading;
            using DmaBuf;

            class C
            {
                readonly object _gate = new();

                void M(DmaBuffer buf)
                {
                    lock (_gate) { }
                    using (buf.CpuAccess(0, 4096, DmaDataDirection.FromDevice))
                    using (var page = buf.KmapAtomic(0))
                    {
                    }

                    System.Action nap = () => Thread.Sleep(1);
                    nap();
                    System.Action quick = () => { };
                    quick();
                }
            }
            """);

        IMethodSymbol method = BlockingTestCompilation.Method(compilation, "C", "M");
        SyntaxNode declaration = method.DeclaringSyntaxReferences[0].GetSyntax();
        var body = (Microsoft.CodeAnalysis.Operations.IMethodBodyOperation)compilation.GetSemanticModel(declaration.SyntaxTree).GetOperation(declaration)!;
        var cfg = Microsoft.CodeAnalysis.FlowAnalysis.ControlFlowGraph.Create(body);
        var found = new System.Collections.Generic.List<string>();
        foreach (var block in cfg.Blocks)
        {
            var roots = block.Operations.ToList();
            if (block.BranchValue is not null)
            {
                roots.Add(block.BranchValue);
            }

            foreach (IOperation root in roots)
            {
                found.AddRange(analysis.FindBlockingOperations(root, CancellationToken.None).Select(b => b.Description));
            }
        }

        Assert.Equal(
            new[]
            {
                "'Monitor.Enter(object, ref bool)'",
                "'DmaBuffer.CpuAccess(long, long, DmaDataDirection)'",
                "'CpuAccessScope.Dispose()'",
                "the lambda at line 16 (→ Thread.Sleep at line 16)",
            },
            found);
    }

    [Fact]
    public async Task KnownSymbols_AreNullWithoutTheRuntime()
    {
        var references = await Microsoft.CodeAnalysis.Testing.ReferenceAssemblies.Net.Net80.ResolveAsync(LanguageNames.CSharp, CancellationToken.None);
        var compilation = Microsoft.CodeAnalysis.CSharp.CSharpCompilation.Create(
            "NoRuntime",
            new[] { Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText("namespace DmaBuf { public sealed class DmaBuffer { } }") },
            references);
        Assert.Null(KnownSymbols.Create(compilation));
    }

    [Fact]
    public async Task GlobalOption_ListsAMethodInMetadata()
    {
        Compilation compilation = await BlockingTestCompilation.CreateAsync("class C { }");
        KnownSymbols symbols = KnownSymbols.Create(compilation)!;
        IMethodSymbol getVariable = compilation.GetTypesByMetadataName("System.Environment").First().GetMembers("GetEnvironmentVariable").OfType<IMethodSymbol>().First();

        var listed = BlockingAnalysis.Create(compilation, symbols, new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty, new GlobalOnlyOptions("System.Environment.GetEnvironmentVariable")));
        Assert.True(listed.MayBlock(getVariable, CancellationToken.None, out string? reason));
        Assert.Equal("it is listed in dotnet_code_quality.DMA0005.additional_blocking_methods", reason);

        var unlisted = BlockingAnalysis.Create(compilation, symbols, new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty));
        Assert.False(unlisted.MayBlock(getVariable, CancellationToken.None, out _));
    }

    private sealed class GlobalOnlyOptions : AnalyzerConfigOptionsProvider
    {
        private readonly Options _global;

        public GlobalOnlyOptions(string blockingMethods) => _global = new Options(blockingMethods);

        public override AnalyzerConfigOptions GlobalOptions => _global;

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => new Options(null);

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => new Options(null);

        private sealed class Options : AnalyzerConfigOptions
        {
            private readonly string? _value;

            public Options(string? value) => _value = value;

            public override bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value)
            {
                value = key == AdditionalBlockingMethods.OptionName ? _value : null;
                return value is not null;
            }
        }
    }
}
