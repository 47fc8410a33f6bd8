using System;
using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace DmaBuf.Analyzers.Engine;

/// <summary>What a callee does with atomic mappings, seen from its caller.</summary>
internal sealed class AtomicSummary
{
    public AtomicSummary(int maxHeld, int netHeld, bool returnsPage, bool isRecursive)
    {
        MaxHeld = Math.Min(maxHeld, AtomicSummaries.Saturation);
        NetHeld = Math.Min(netHeld, AtomicSummaries.Saturation);
        ReturnsPage = returnsPage;
        IsRecursive = isRecursive;
    }

    public static AtomicSummary Zero { get; } = new(0, 0, false, false);

    public static AtomicSummary Recursive { get; } = new(0, 0, false, true);

    /// <summary>The most atomic mappings the callee (and its callees) hold at once.</summary>
    public int MaxHeld { get; }

    /// <summary>The atomic mappings the callee leaves held when it returns.</summary>
    public int NetHeld { get; }

    /// <summary>Whether one of those is returned as a <c>DmaBufPage</c>.</summary>
    public bool ReturnsPage { get; }

    /// <summary>A call back into a method whose summary is being computed: with a mapping held, the recursion piles them up.</summary>
    public bool IsRecursive { get; }

    /// <summary>How many atomic mappings the call adds at its peak, given how many the caller holds.</summary>
    public int PeakFor(int callerHeld) => IsRecursive ? (callerHeld > 0 ? AtomicSummaries.Saturation : 0) : MaxHeld;
}

/// <summary>
/// Per-compilation cache of <see cref="AtomicSummary"/> for methods in the compilation (and their local functions and
/// lambdas), computed on demand by running the engine over the callee, to any depth. Thread-safe: a summary computed
/// twice by two threads is the same, and the first one stored wins.
/// </summary>
internal sealed class AtomicSummaries
{
    /// <summary>Three is already too many; counts stop there so that recursion and loops converge.</summary>
    public const int Saturation = 3;

    private readonly ConcurrentDictionary<IMethodSymbol, AtomicSummary> _cache = new(SymbolEqualityComparer.Default);
    private readonly ConcurrentDictionary<SyntaxTree, SemanticModel> _models = new();
    private readonly Compilation _compilation;
    private readonly KnownSymbols _symbols;

    public AtomicSummaries(Compilation compilation, KnownSymbols symbols)
    {
        _compilation = compilation;
        _symbols = symbols;
    }

    /// <summary>The summary of a method of the compilation (an ordinary method, accessor or constructor with a body).</summary>
    public AtomicSummary Get(IMethodSymbol method, ImmutableHashSet<IMethodSymbol> inProgress, CancellationToken cancellationToken)
    {
        method = method.OriginalDefinition;
        if (_cache.TryGetValue(method, out AtomicSummary? cached))
        {
            return cached;
        }

        if (inProgress.Contains(method))
        {
            return AtomicSummary.Recursive;
        }

        // The pre-filter runs on the operation tree, so that no graph is built for a callee that cannot hold a mapping.
        IOperation? body = GetBody(method, cancellationToken);
        AtomicSummary summary = body is null || !MayHoldAtomic(body, inProgress.Add(method), cancellationToken)
            ? AtomicSummary.Zero
            : Compute(method, () => CreateGraph(body, cancellationToken), inProgress, cancellationToken);
        return _cache.GetOrAdd(method, summary);
    }

    /// <summary>The summary of a local function or lambda, whose graph only its enclosing graph can give.</summary>
    public AtomicSummary Get(IMethodSymbol method, Func<ControlFlowGraph?> graph, ImmutableHashSet<IMethodSymbol> inProgress, CancellationToken cancellationToken)
    {
        if (_cache.TryGetValue(method, out AtomicSummary? cached))
        {
            return cached;
        }

        if (inProgress.Contains(method))
        {
            return AtomicSummary.Recursive;
        }

        AtomicSummary summary = Compute(method, graph, inProgress, cancellationToken);
        return _cache.GetOrAdd(method, summary);
    }

    /// <summary>Whether a method may be summarized: it is in this compilation and has a body.</summary>
    public bool IsSummarizable(IMethodSymbol method) =>
        method.MethodKind is MethodKind.LocalFunction or MethodKind.AnonymousFunction ||
        (SymbolEqualityComparer.Default.Equals(method.ContainingAssembly, _compilation.Assembly) && !method.IsAbstract && !method.IsExtern && method.DeclaringSyntaxReferences.Length > 0);

    private AtomicSummary Compute(IMethodSymbol method, Func<ControlFlowGraph?> graph, ImmutableHashSet<IMethodSymbol> inProgress, CancellationToken cancellationToken)
    {
        ControlFlowGraph? cfg = graph();
        if (cfg is null || !MayHoldAtomic(cfg.OriginalOperation, inProgress.Add(method), cancellationToken))
        {
            return AtomicSummary.Zero;
        }

        var context = new FlowContext(_symbols, this, method, inProgress.Add(method), cancellationToken);
        FlowResult result = new FlowEngine(cfg, context, rules: ImmutableArray<FlowRule>.Empty, report: null).Run();
        if (result.GaveUp)
        {
            return AtomicSummary.Zero;
        }

        bool returnsPage = SymbolEqualityComparer.Default.Equals(method.ReturnType, _symbols.DmaBufPage);
        return new AtomicSummary(result.MaxAtomic, result.NetAtomic, returnsPage && result.NetAtomic > 0, false);
    }

    /// <summary>The cheap pre-filter: a body that neither maps atomically nor calls anything that may is not analysed.</summary>
    private bool MayHoldAtomic(IOperation root, ImmutableHashSet<IMethodSymbol> inProgress, CancellationToken cancellationToken)
    {
        foreach (IOperation op in root.Descendants())
        {
            if (op is not IInvocationOperation invocation)
            {
                continue;
            }

            IMethodSymbol target = invocation.TargetMethod;
            if (KnownSymbols.IsSame(target, _symbols.KmapAtomic))
            {
                return true;
            }

            if (target.MethodKind is MethodKind.LocalFunction or MethodKind.DelegateInvoke)
            {
                return true;
            }

            if (IsSummarizable(target))
            {
                AtomicSummary callee = Get(target, inProgress, cancellationToken);
                if (callee.MaxHeld > 0 || callee.NetHeld > 0 || callee.IsRecursive)
                {
                    return true;
                }
            }
        }

        return false;
    }

    private IOperation? GetBody(IMethodSymbol method, CancellationToken cancellationToken)
    {
        foreach (SyntaxReference reference in method.DeclaringSyntaxReferences)
        {
            SyntaxNode syntax = reference.GetSyntax(cancellationToken);
            SemanticModel model = _models.GetOrAdd(syntax.SyntaxTree, tree =>
            {
#pragma warning disable RS1030 // A callee's summary needs its body; models are made once per tree and cached for the compilation.
                return _compilation.GetSemanticModel(tree);
#pragma warning restore RS1030
            });
            IOperation? operation = model.GetOperation(syntax, cancellationToken);
            if (operation is IMethodBodyOperation or IConstructorBodyOperation || operation is IBlockOperation { Parent: null })
            {
                return operation;
            }

            // An arrow-bodied accessor: the operation of its expression clause.
            SyntaxNode? arrow = syntax.DescendantNodes().FirstOrDefault(n => n.RawKind == (int)Microsoft.CodeAnalysis.CSharp.SyntaxKind.ArrowExpressionClause);
            if (arrow is not null && model.GetOperation(arrow, cancellationToken) is IBlockOperation { Parent: null } arrowBlock)
            {
                return arrowBlock;
            }
        }

        return null;
    }

    private static ControlFlowGraph? CreateGraph(IOperation body, CancellationToken cancellationToken) => body switch
    {
        IMethodBodyOperation method => ControlFlowGraph.Create(method, cancellationToken),
        IConstructorBodyOperation constructor => ControlFlowGraph.Create(constructor, cancellationToken),
        IBlockOperation block => ControlFlowGraph.Create(block, cancellationToken),
        _ => null,
    };
}
