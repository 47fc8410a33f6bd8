// Per-method summaries for callers: what a callee needs of its caller and leaves it (atomic mappings, accesses,
// references, vmaps), computed once per compilation, safe under recursion.
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace DmaBuf.Analyzers.Engine;

/// <summary>What a callee does, seen from its caller: with atomic mappings, and with the buffers it is given or returns.</summary>
internal sealed class MethodSummary
{
    public MethodSummary(int maxHeld, int netHeld, bool returnsPage, bool isRecursive)
        : this(maxHeld, netHeld, returnsPage, isRecursive, ImmutableArray<ParameterContract>.Empty, null, -1, null)
    {
    }

    public MethodSummary(int maxHeld, int netHeld, bool returnsPage, bool isRecursive, ImmutableArray<ParameterContract> parameters, IInvocationOperation? returnedReference, int scopeParameter, IInvocationOperation? returnedScope, ImmutableArray<ExitCase> cases = default, int returnedParameter = -1, IInvocationOperation? returnedVmap = null)
        : this(maxHeld, netHeld, returnsPage, isRecursive, returnedReference, scopeParameter, returnedScope, cases, returnedParameter)
    {
        _parameters = parameters;
        _parametersHaveEffects = parameters.Any(p => p.HasEffects);
        ReturnedVmap = returnedVmap;
    }

    /// <summary>
    /// The summary of a method that touches no buffer: no effect, and for each parameter only whether the method may
    /// keep it, worked out when a caller first asks (most callers never hand such a method a buffer).
    /// </summary>
    public MethodSummary(Func<ImmutableArray<ParameterContract>> parameters, int returnedParameter)
        : this(0, 0, false, false, null, -1, null, default, returnedParameter)
    {
        _lazyParameters = parameters;
    }

    private MethodSummary(int maxHeld, int netHeld, bool returnsPage, bool isRecursive, IInvocationOperation? returnedReference, int scopeParameter, IInvocationOperation? returnedScope, ImmutableArray<ExitCase> cases, int returnedParameter)
    {
        ReturnedParameter = returnedParameter;
        Cases = cases.IsDefault ? ImmutableArray<ExitCase>.Empty : cases;
        MaxHeld = Math.Min(maxHeld, MethodSummaries.Saturation);
        NetHeld = Math.Min(netHeld, MethodSummaries.Saturation);
        ReturnsPage = returnsPage;
        IsRecursive = isRecursive;
        ReturnedReference = returnedReference;
        ScopeParameter = scopeParameter;
        ReturnedScope = returnedScope;
    }

    public static MethodSummary Zero { get; } = new(0, 0, false, false);

    public static MethodSummary Recursive { get; } = new(0, 0, false, true);

    /// <summary>
    /// The ways the callee returns, when what it leaves for its conditional parameters differs by the way (an Open that
    /// begins access and returns 0, or ends what it began and returns an error); empty otherwise.
    /// </summary>
    public ImmutableArray<ExitCase> Cases { get; }

    private readonly object _gate = new();
    private Func<ImmutableArray<ParameterContract>>? _lazyParameters;
    private ImmutableArray<ParameterContract> _parameters;
    private bool _parametersHaveEffects;

    /// <summary>Per parameter, what the callee requires of and leaves for the buffer it is given; empty when nothing is known.</summary>
    public ImmutableArray<ParameterContract> Parameters
    {
        get
        {
            lock (_gate)
            {
                if (_lazyParameters is { } compute)
                {
                    _parameters = compute();
                    _lazyParameters = null;
                }

                return _parameters.IsDefault ? ImmutableArray<ParameterContract>.Empty : _parameters;
            }
        }
    }

    /// <summary>The Get or Export whose reference the callee returns on every way it returns, for its caller to put.</summary>
    public IInvocationOperation? ReturnedReference { get; }

    /// <summary>The Vmap whose vmap the callee returns on every way it returns, for its caller to vunmap.</summary>
    public IInvocationOperation? ReturnedVmap { get; }

    /// <summary>The CpuAccess call whose scope the callee returns on every way it returns (on parameter <see cref="ScopeParameter"/>).</summary>
    public IInvocationOperation? ReturnedScope { get; }

    /// <summary>The parameter the returned scope's access is begun on.</summary>
    public int ScopeParameter { get; }

    /// <summary>The parameter the callee returns as it came on every way out (a fluent `return b;`), or -1.</summary>
    public int ReturnedParameter { get; }

    /// <summary>Whether a call of the callee changes anything the engine follows in the caller.</summary>
    public bool HasEffects => NetHeld > 0 || ReturnedReference is not null || ReturnedScope is not null || ReturnedVmap is not null || _parametersHaveEffects;

    /// <summary>The contract of the parameter with ordinal <paramref name="ordinal"/>: Unknown when nothing was learnt of it.</summary>
    public ParameterContract ContractOf(int ordinal) =>
        IsRecursive || ordinal < 0 || ordinal >= Parameters.Length ? ParameterContract.Unknown : Parameters[ordinal];

    /// <summary>The most atomic mappings the callee (and its callees) hold at once.</summary>
    public int MaxHeld { get; }

    /// <summary>The atomic mappings the callee leaves held when it returns.</summary>
    public int NetHeld { get; }

    /// <summary>Whether one of those is returned as a <c>DmaBufPage</c>.</summary>
    public bool ReturnsPage { get; }

    /// <summary>A call back into a method whose summary is being computed: with a mapping held, the recursion piles them up.</summary>
    public bool IsRecursive { get; }

    /// <summary>How many atomic mappings the call adds at its peak, given how many the caller holds.</summary>
    public int PeakFor(int callerHeld) => IsRecursive ? (callerHeld > 0 ? MethodSummaries.Saturation : 0) : MaxHeld;
}

/// <summary>
/// Per-compilation cache of <see cref="MethodSummary"/> for methods in the compilation (and their local functions and
/// lambdas), computed on demand by running the engine over the callee, to any depth. Thread-safe: a summary computed
/// twice by two threads is the same, and the first one stored wins.
/// </summary>
internal sealed class MethodSummaries
{
    /// <summary>Three is already too many; counts stop there so that recursion and loops converge.</summary>
    public const int Saturation = 3;

    private readonly ConcurrentDictionary<IMethodSymbol, MethodSummary> _cache = new(SymbolEqualityComparer.Default);
    private readonly Compilation _compilation;
    private readonly KnownSymbols _symbols;

    private readonly RuntimeMentions _mentions;

    public MethodSummaries(Compilation compilation, KnownSymbols symbols, RuntimeMentions mentions)
    {
        _compilation = compilation;
        _symbols = symbols;
        _mentions = mentions;
        Bodies = new MethodBodies(compilation);
        Escapes = new EscapeSummaries(compilation, symbols, Bodies);
        Callers = new CallerIndex(compilation, Bodies, mentions);
    }

    /// <summary>Which methods of the compilation have callers in it.</summary>
    public CallerIndex Callers { get; }

    /// <summary>The bodies of the compilation's methods, shared by every summary.</summary>
    public MethodBodies Bodies { get; }

    /// <summary>Which parameters of the compilation's methods their bodies may keep.</summary>
    public EscapeSummaries Escapes { get; }

    /// <summary>The summary of a method of the compilation (an ordinary method, accessor or constructor with a body).</summary>
    public MethodSummary Get(IMethodSymbol method, ImmutableHashSet<IMethodSymbol> inProgress, CancellationToken cancellationToken)
    {
        method = method.OriginalDefinition;
        if (_cache.TryGetValue(method, out MethodSummary? cached))
        {
            return cached;
        }

        if (inProgress.Contains(method))
        {
            return MethodSummary.Recursive;
        }

        // A method whose text names neither the runtime nor a method that may (RuntimeMentions) touches no buffer: its
        // body is not even bound. Otherwise the pre-filter runs on the operation tree, so that no graph is built for a
        // callee that touches no buffer.
        if (!IsNear(method, cancellationToken))
        {
            return _cache.GetOrAdd(method, Plain(method, cancellationToken));
        }

        IOperation? body = Bodies.Get(method, cancellationToken);
        MethodSummary summary = body is null || !MayConcern(body, inProgress.Add(method), cancellationToken)
            ? Plain(method, cancellationToken)
            : Compute(method, () => MethodBodies.CreateGraph(body, cancellationToken), inProgress, cancellationToken);
        return _cache.GetOrAdd(method, summary);
    }

    /// <summary>The summary of a local function or lambda, whose graph only its enclosing graph can give.</summary>
    public MethodSummary Get(IMethodSymbol method, Func<ControlFlowGraph?> graph, ImmutableHashSet<IMethodSymbol> inProgress, CancellationToken cancellationToken)
    {
        if (_cache.TryGetValue(method, out MethodSummary? cached))
        {
            return cached;
        }

        if (inProgress.Contains(method))
        {
            return MethodSummary.Recursive;
        }

        MethodSummary summary = Compute(method, graph, inProgress, cancellationToken);
        return _cache.GetOrAdd(method, summary);
    }

    private bool IsNear(IMethodSymbol method, CancellationToken cancellationToken)
    {
        foreach (SyntaxReference reference in method.DeclaringSyntaxReferences)
        {
            if (_mentions.MayConcern(reference.GetSyntax(cancellationToken), cancellationToken))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether a method may be summarized: it is in this compilation and has a body.</summary>
    public bool IsSummarizable(IMethodSymbol method) => Bodies.HasBody(method);

    private MethodSummary Compute(IMethodSymbol method, Func<ControlFlowGraph?> graph, ImmutableHashSet<IMethodSymbol> inProgress, CancellationToken cancellationToken)
    {
        ControlFlowGraph? cfg = graph();
        if (cfg is null || !MayConcern(cfg.OriginalOperation, inProgress.Add(method), cancellationToken))
        {
            return Plain(method, cancellationToken);
        }

        if (MethodBodies.IsIterator(cfg.OriginalOperation))
        {
            // Called, an iterator only keeps its parameters: its body runs when it is enumerated.
            return new MethodSummary(0, 0, false, false, method.Parameters.Select(_ => ParameterContract.Unknown).ToImmutableArray(), null, -1, null);
        }

        var context = new FlowContext(_symbols, this, method, inProgress.Add(method), cancellationToken, summarizing: true);
        var collector = new ContractCollector(method);
        FlowResult result = new FlowEngine(cfg, context, ImmutableArray.Create<FlowClient>(collector), report: static _ => { }).Run();
        if (result.GaveUp)
        {
            return MethodSummary.Zero;
        }

        bool returnsPage = SymbolEqualityComparer.Default.Equals(method.ReturnType, _symbols.DmaBufPage);
        (int scopeParameter, IInvocationOperation? scope) = ReturnedScope(method, cfg.OriginalOperation);
        ImmutableArray<ParameterContract> contracts = collector.Contracts(p => Escapes.MayKeep(method, p, cancellationToken));
        return new MethodSummary(
            result.MaxAtomic,
            result.NetAtomic,
            returnsPage && result.NetAtomic > 0,
            false,
            contracts,
            ReturnedReference(method, cfg.OriginalOperation),
            scopeParameter,
            scope,
            collector.Cases(contracts),
            ReturnedParameter(method, cfg.OriginalOperation),
            ReturnedVmap(method, cfg.OriginalOperation));
    }

    /// <summary>The summary of a body that touches no buffer: each parameter is kept or not, and nothing else happens.</summary>
    private MethodSummary Plain(IMethodSymbol method, CancellationToken cancellationToken)
    {
        if (method.Parameters.IsEmpty || method.MethodKind is MethodKind.LocalFunction or MethodKind.AnonymousFunction)
        {
            return MethodSummary.Zero;
        }

        int returned = ReturnsAParameter(method) && Bodies.Get(method, cancellationToken) is { } body ? ReturnedParameter(method, body) : -1;
        return new MethodSummary(
            () => method.Parameters.Select(p => Escapes.MayKeep(method, p, cancellationToken) ? ParameterContract.Unknown : ParameterContract.None).ToImmutableArray(),
            returned);
    }

    /// <summary>
    /// The Get or Export whose reference a method returns, when every value it returns (but null) is such a call or a
    /// local given one and nothing else, and the method puts none of them.
    /// </summary>
    private IInvocationOperation? ReturnedReference(IMethodSymbol method, IOperation body)
    {
        if (!SymbolEqualityComparer.Default.Equals(method.ReturnType.OriginalDefinition, _symbols.DmaBuffer) || method.IsAsync)
        {
            return null;
        }

        IInvocationOperation? first = null;
        foreach (IOperation returned in ReturnedValues(body))
        {
            if (returned.ConstantValue is { HasValue: true, Value: null })
            {
                continue;
            }

            if (ValueOf(returned, body) is not IInvocationOperation call || !(KnownSymbols.IsSame(call.TargetMethod, _symbols.Get) || KnownSymbols.IsSame(call.TargetMethod, _symbols.Export)))
            {
                return null;
            }

            first ??= call;
        }

        return first is not null && !body.Descendants().OfType<IInvocationOperation>().Any(i => KnownSymbols.IsSame(i.TargetMethod, _symbols.Put)) ? first : null;
    }

    /// <summary>
    /// The Vmap whose vmap a method returns, when every value it returns is such a call or a local given one and nothing
    /// else, and the method vunmaps or disposes no vmap (no Vunmap, no vmap Dispose, no using of a vmap).
    /// </summary>
    private IInvocationOperation? ReturnedVmap(IMethodSymbol method, IOperation body)
    {
        if (!SymbolEqualityComparer.Default.Equals(method.ReturnType, _symbols.DmaBufVmap) || method.IsAsync)
        {
            return null;
        }

        IInvocationOperation? first = null;
        foreach (IOperation returned in ReturnedValues(body))
        {
            if (ValueOf(returned, body) is not IInvocationOperation call || !KnownSymbols.IsSame(call.TargetMethod, _symbols.Vmap))
            {
                return null;
            }

            first ??= call;
        }

        return first is not null && !body.Descendants().Any(VunmapsAVmap) ? first : null;
    }

    private bool VunmapsAVmap(IOperation operation) => operation switch
    {
        IInvocationOperation call => KnownSymbols.IsSame(call.TargetMethod, _symbols.Vunmap) || KnownSymbols.IsSame(call.TargetMethod, _symbols.DmaBufVmapDispose) ||
            call.TargetMethod.Name == nameof(IDisposable.Dispose) && call.Instance is { } instance && IsVmap(instance),
        IUsingOperation @using => @using.Resources.DescendantsAndSelf().Any(IsVmap),
        IUsingDeclarationOperation declaration => declaration.DeclarationGroup.Descendants().Any(IsVmap),
        _ => false,
    };

    private bool IsVmap(IOperation operation) =>
        SymbolEqualityComparer.Default.Equals(BodyFacts.Unwrap(operation).Type, _symbols.DmaBufVmap) || SymbolEqualityComparer.Default.Equals(operation.Type, _symbols.DmaBufVmap);

    /// <summary>Whether a method returns the type of one of its parameters (so that it may return that parameter).</summary>
    private static bool ReturnsAParameter(IMethodSymbol method) =>
        !method.ReturnsVoid && method.Parameters.Any(p => SymbolEqualityComparer.Default.Equals(p.Type, method.ReturnType));

    /// <summary>The parameter a method returns on every way out, as it came, or -1.</summary>
    private static int ReturnedParameter(IMethodSymbol method, IOperation body)
    {
        IParameterSymbol? returned = null;
        foreach (IOperation value in ReturnedValues(body))
        {
            if (BodyFacts.Unwrap(value) is not IParameterReferenceOperation { Parameter: { RefKind: RefKind.None } parameter } ||
                (returned is not null && !SymbolEqualityComparer.Default.Equals(returned, parameter)))
            {
                return -1;
            }

            returned = parameter;
        }

        return returned is not null && SymbolEqualityComparer.Default.Equals(returned.ContainingSymbol, method) ? returned.Ordinal : -1;
    }

    /// <summary>The CpuAccess call on a parameter whose scope a method returns, when every value it returns is that scope.</summary>
    private (int Parameter, IInvocationOperation? Scope) ReturnedScope(IMethodSymbol method, IOperation body)
    {
        if (!SymbolEqualityComparer.Default.Equals(method.ReturnType, _symbols.CpuAccessScope) || method.IsAsync)
        {
            return (-1, null);
        }

        IInvocationOperation? scope = null;
        foreach (IOperation returned in ReturnedValues(body))
        {
            if (ValueOf(returned, body) is not IInvocationOperation call || !_symbols.IsScope(call.TargetMethod) ||
                (scope is not null && !ReferenceEquals(scope, call)) || BodyFacts.Unwrap(call.Instance!) is not IParameterReferenceOperation)
            {
                return (-1, null);
            }

            scope = call;
        }

        return scope is not null && BodyFacts.Unwrap(scope.Instance!) is IParameterReferenceOperation parameter ? (parameter.Parameter.Ordinal, scope) : (-1, null);
    }

    private static IEnumerable<IOperation> ReturnedValues(IOperation body) =>
        body.Descendants().OfType<IReturnOperation>()
            .Where(r => r.Kind == OperationKind.Return && !InNestedFunction(r))
            .Select(r => r.ReturnedValue)
            .Where(v => v is not null)!;

    private static bool InNestedFunction(IOperation operation)
    {
        for (IOperation? parent = operation.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent is IAnonymousFunctionOperation or ILocalFunctionOperation)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A returned expression's value: itself, or the one value a local is given in the body.</summary>
    private static IOperation ValueOf(IOperation returned, IOperation body)
    {
        IOperation value = BodyFacts.Unwrap(returned);
        if (value is not ILocalReferenceOperation local)
        {
            return value;
        }

        IOperation? single = null;
        foreach (IOperation op in body.Descendants())
        {
            IOperation? written = op switch
            {
                IVariableDeclaratorOperation declarator when SymbolEqualityComparer.Default.Equals(declarator.Symbol, local.Local) => declarator.GetVariableInitializer()?.Value,
                ISimpleAssignmentOperation { Target: ILocalReferenceOperation target } assignment when SymbolEqualityComparer.Default.Equals(target.Local, local.Local) => assignment.Value,
                _ => null,
            };
            if (written is not null)
            {
                if (single is not null)
                {
                    return value;
                }

                single = BodyFacts.Unwrap(written);
            }
        }

        return single ?? value;
    }

    /// <summary>
    /// The cheap pre-filter: a body that calls no member of the runtime, nothing that may hold an atomic mapping and
    /// nothing with an effect on buffers has no effects of its own to summarize.
    /// </summary>
    private bool MayConcern(IOperation root, ImmutableHashSet<IMethodSymbol> inProgress, CancellationToken cancellationToken)
    {
        foreach (IOperation op in root.Descendants())
        {
            if (op is not IInvocationOperation invocation)
            {
                continue;
            }

            IMethodSymbol target = invocation.TargetMethod;
            if (_symbols.IsRuntimeType(target.ContainingType))
            {
                return true;
            }

            if (target.MethodKind is MethodKind.LocalFunction or MethodKind.DelegateInvoke)
            {
                return true;
            }

            if (IsSummarizable(target))
            {
                MethodSummary callee = Get(target, inProgress, cancellationToken);
                if (callee.MaxHeld > 0 || callee.HasEffects || callee.IsRecursive)
                {
                    return true;
                }
            }
        }

        return false;
    }
}
