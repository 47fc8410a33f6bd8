using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace DmaBuf.Analyzers.Engine;

/// <summary>What one run of the engine found that the callers' summaries need.</summary>
internal sealed class FlowResult
{
    public FlowResult(bool gaveUp, int maxAtomic, int netAtomic)
    {
        GaveUp = gaveUp;
        MaxAtomic = maxAtomic;
        NetAtomic = netAtomic;
    }

    public bool GaveUp { get; }

    public int MaxAtomic { get; }

    public int NetAtomic { get; }
}

/// <summary>How the result of an expression is used by its parent.</summary>
internal enum Usage
{
    None,
    Escape,
    HandledByParent,
}

/// <summary>How an <c>EndCpuAccess</c> pairs with what a path has open on its buffer.</summary>
internal enum EndMatch
{
    /// <summary>A begun access with the same constant range and direction.</summary>
    Exact,

    /// <summary>A begun access whose range is not known exactly: it may be the one.</summary>
    Loose,

    /// <summary>No access begun here, but one begun by code the body cannot see may be open.</summary>
    External,

    /// <summary>Only accesses with another (known) range or direction are open.</summary>
    Mismatch,

    /// <summary>Nothing is open.</summary>
    Nothing,
}

/// <summary>
/// The shared dataflow engine. It runs over a body's <see cref="ControlFlowGraph"/> with a disjunctive abstract state
/// (<see cref="FlowState"/>: per path, the accesses begun and not ended per buffer, the pages held and by which
/// variables, and the number of atomic mappings), merges at joins, iterates loops to a fixed point (with a bound),
/// runs finally regions on every way out, sends explicit throws to the enclosing catch or out of the body, and then
/// makes one final pass over the fixed point in which the rules (<see cref="FlowRule"/>) see each event.
/// </summary>
internal sealed class FlowEngine
{
    private const int Pending = -1;
    private const int MaxVisitsPerBlock = 40;
    private const int MaxSameSite = MethodSummaries.Saturation;

    private readonly ControlFlowGraph _cfg;
    private readonly FlowContext _context;
    private readonly KnownSymbols _symbols;
    private readonly BodyFacts _facts;
    private readonly ValueEvaluator _values;
    private readonly PathFacts _paths;
    private readonly ImmutableArray<FlowClient> _rules;
    private readonly FlowReport? _report;
    private readonly Dictionary<BufferKey, int> _keyIds = new();
    private readonly List<BufferKey> _keys = new();
    private readonly Dictionary<IOperation, int> _siteIds = new(OperationIdentity.Comparer);
    private readonly Dictionary<ISymbol, int> _localHolders = new(SymbolEqualityComparer.Default);
    private readonly Dictionary<CaptureId, int> _captureHolders = new();
    private readonly Dictionary<int, string> _holderNames = new();
    private readonly Dictionary<ISymbol, IFlowAnonymousFunctionOperation> _lambdas = new(SymbolEqualityComparer.Default);
    private readonly FlowState?[] _in;
    private readonly FlowState?[] _finallyIn;
    private readonly SortedSet<int> _worklist = new();
    private bool _final;
    private bool _quiet;
    private bool _gaveUp;
    private int _maxAtomic;
    private int _netAtomic;
    private IOperation? _branchRoot;
    private BasicBlock? _block;
    private Sink? _sink;
    private bool _branchEscapes;
    private bool _anyThisKey;

    public FlowEngine(ControlFlowGraph cfg, FlowContext context, ImmutableArray<FlowClient> rules, Action<Diagnostic>? report)
    {
        _cfg = cfg;
        _context = context;
        _symbols = context.Symbols;
        _facts = new BodyFacts(cfg, context.Symbols, context.Method, context.ClosesCpuAccess, context.CancellationToken, call => call.TargetMethod.MethodKind != MethodKind.DelegateInvoke && SummaryOf(call)?.ReturnedReference is not null, call => ReturnedArgument(call));
        _values = new ValueEvaluator(_facts, context.Symbols);
        _paths = new PathFacts(cfg, new ValueKeys(_facts), context.Symbols);
        _rules = rules.IsDefault ? ImmutableArray<FlowClient>.Empty : rules;
        _report = !_rules.IsEmpty && report is not null ? new FlowReport(this, context, report) : null;
        _in = new FlowState?[cfg.Blocks.Length];
        _finallyIn = new FlowState?[cfg.Blocks.Length];
        foreach (BasicBlock block in cfg.Blocks)
        {
            foreach (IOperation root in block.Operations)
            {
                foreach (IOperation op in root.DescendantsAndSelf())
                {
                    if (op is IFlowAnonymousFunctionOperation lambda)
                    {
                        _lambdas[lambda.Symbol] = lambda;
                    }
                }
            }
        }
    }

    public ControlFlowGraph Graph => _cfg;

    /// <summary>
    /// Whether the page number a mapping was made with and an unmap's page number differ for certain: the same
    /// expression over unchanged operands plus different constants (`n` and `n + 1`).
    /// </summary>
    public bool PagesDiffer(MappingRecord mapping, IOperation? unmapPage) =>
        mapping.PageKey >= 0 && unmapPage is not null && _paths.Keys.KeyOf(unmapPage) is int other and >= 0 && _paths.Keys.Differ(mapping.PageKey, other);

    /// <summary>What a path knows of the value of an expression (see <see cref="PathFacts"/>).</summary>
    public Fact FactOf(Config config, IOperation? value) => _paths.FactOf(config, value);

    /// <summary>The buffer a key id stands for.</summary>
    public BufferKey? KeyFor(int key) => key >= 0 && key < _keys.Count ? _keys[key] : null;

    /// <summary>The variable id (<see cref="ReleaseId"/>) of a parameter read as a whole, or <see cref="NoVariable"/>.</summary>
    public int ParameterReleaseId(IParameterSymbol parameter)
    {
        int key = _paths.Keys.ParameterKey(parameter);
        return key < 0 ? NoVariable : -(key + 2);
    }

    public string KeyDisplay(int key) => key >= 0 && key < _keys.Count ? _keys[key].Display : "the buffer";

    public bool IsManaged(int key) => key >= 0 && key < _keys.Count && _facts.IsManaged(_keys[key]);

    public bool HasUnknownAccess(Config config, int key) =>
        key < 0 || (config.Unknown.TryGetValue(key, out bool unknown) ? unknown : !IsManaged(key));

    public FlowResult Run()
    {
        _in[0] = _context.Summarizing ? CallerReferences() : FlowState.Initial;
        _worklist.Add(0);
        var visits = new int[_cfg.Blocks.Length];
        var mainSink = new Sink(this, null);
        while (_worklist.Count > 0)
        {
            _context.CancellationToken.ThrowIfCancellationRequested();
            int ordinal = _worklist.Min;
            _worklist.Remove(ordinal);
            if (++visits[ordinal] > MaxVisitsPerBlock)
            {
                _gaveUp = true;
                break;
            }

            ProcessBlock(_cfg.Blocks[ordinal], _in[ordinal], mainSink);
        }

        if (_gaveUp || _in.Any(s => s is { IsTop: true }) || _finallyIn.Any(s => s is { IsTop: true }))
        {
            return new FlowResult(true, 0, 0);
        }

        _final = true;
        foreach (BasicBlock block in _cfg.Blocks)
        {
            _context.CancellationToken.ThrowIfCancellationRequested();
            if (_in[block.Ordinal] is { } state)
            {
                ProcessBlock(block, state, mainSink);
            }

            if (_finallyIn[block.Ordinal] is { } finallyState)
            {
                ProcessBlock(block, finallyState, new Sink(this, block.EnclosingRegion));
            }
        }

        return new FlowResult(false, _maxAtomic, _netAtomic);
    }

    /// <summary>
    /// The state a summarized method starts in: each buffer parameter holds the reference its caller lends it, so that
    /// each way out tells whether the method put it, kept it (handed it away) or left it to the caller.
    /// </summary>
    private FlowState CallerReferences()
    {
        ImmutableArray<ResourceRecord> records = ImmutableArray<ResourceRecord>.Empty;
        if (_context.Method is { } method)
        {
            foreach (IParameterSymbol parameter in method.Parameters)
            {
                if (parameter.RefKind == RefKind.None && SymbolEqualityComparer.Default.Equals(parameter.Type, _symbols.DmaBuffer))
                {
                    records = records.Add(new ResourceRecord(_cfg.OriginalOperation, CallerReferenceSite(parameter.Ordinal), ResourceKind.CallerReference, ImmutableArray.Create(LocalHolder(parameter)), false, false, -1, parameter.Name));
                }
            }
        }

        return records.IsEmpty ? FlowState.Initial : FlowState.Of(new[] { Config.Empty.WithResources(records) })!;
    }

    /// <summary>The site id of the caller's reference that parameter <paramref name="ordinal"/> brings (never a real site's).</summary>
    public static int CallerReferenceSite(int ordinal) => -(ordinal + 2);

    // ---- Blocks and branches ----------------------------------------------------------------------------------

    /// <summary>Where the successors of a processed block go: the main worklist, or a finally region being run.</summary>
    private sealed class Sink
    {
        private readonly FlowEngine _engine;
        private readonly ControlFlowRegion? _region;
        private readonly Dictionary<int, FlowState?>? _local;
        private readonly SortedSet<int>? _work;

        public Sink(FlowEngine engine, ControlFlowRegion? region, bool run = false)
        {
            _engine = engine;
            _region = region;
            if (run)
            {
                _local = new Dictionary<int, FlowState?>();
                _work = new SortedSet<int>();
            }
        }

        public FlowState? FinallyOut { get; set; }

        public void Deliver(int ordinal, FlowState? state)
        {
            if (state is null || _engine._final && _local is null)
            {
                return;
            }

            state = state.Map(c => _engine._paths.Restrict(c, ordinal));
            if (state is null)
            {
                return;
            }

            if (_local is not null && _region is not null && ordinal >= _region.FirstBlockOrdinal && ordinal <= _region.LastBlockOrdinal)
            {
                _local.TryGetValue(ordinal, out FlowState? old);
                FlowState? joined = FlowState.Join(old, state);
                if (old is null || !old.SameAs(joined))
                {
                    _local[ordinal] = joined;
                    _work!.Add(ordinal);
                }

                return;
            }

            if (_engine._final)
            {
                return;
            }

            FlowState? previous = _engine._in[ordinal];
            FlowState? merged = FlowState.Join(previous, state);
            if (previous is null || !previous.SameAs(merged))
            {
                _engine._in[ordinal] = merged;
                _engine._worklist.Add(ordinal);
            }
        }

        public FlowState? RunRegion(FlowState input)
        {
            int first = _region!.FirstBlockOrdinal;
            _local![first] = input;
            _work!.Add(first);
            var visits = new Dictionary<int, int>();
            while (_work.Count > 0)
            {
                int ordinal = _work.Min;
                _work.Remove(ordinal);
                visits.TryGetValue(ordinal, out int count);
                if (count >= MaxVisitsPerBlock)
                {
                    _engine._gaveUp = true;
                    return null;
                }

                visits[ordinal] = count + 1;
                FlowState? state = _local[ordinal];
                if (!_engine._final)
                {
                    _engine._finallyIn[ordinal] = FlowState.Join(_engine._finallyIn[ordinal], state);
                }

                _engine.ProcessBlock(_engine._cfg.Blocks[ordinal], state, this);
            }

            return FinallyOut;
        }
    }

    private FlowState? RunFinally(ControlFlowRegion region, FlowState state)
    {
        bool quiet = _quiet;
        BasicBlock? block = _block;
        Sink? sink = _sink;
        _quiet = true;
        try
        {
            return new Sink(this, region, run: true).RunRegion(state);
        }
        finally
        {
            _quiet = quiet;
            _block = block;
            _sink = sink;
        }
    }

    private void ProcessBlock(BasicBlock block, FlowState? state, Sink sink)
    {
        if (state is null || _gaveUp)
        {
            return;
        }

        _block = block;
        _sink = sink;
        FlowState? current = state;
        foreach (IOperation op in block.Operations)
        {
            current = VisitRoot(op, current, escapes: false);
        }

        if (block.BranchValue is not null && current is not null)
        {
            bool escapes = block.ConditionKind == ControlFlowConditionKind.None &&
                block.FallThroughSuccessor is { } fall && (fall.Semantics is ControlFlowBranchSemantics.Return or ControlFlowBranchSemantics.Throw || fall.Destination?.Kind == BasicBlockKind.Exit);
            current = VisitRoot(block.BranchValue, current, escapes);
        }

        if (current is null)
        {
            return;
        }

        if (block.ConditionKind != ControlFlowConditionKind.None && block.BranchValue is not null)
        {
            if (_facts.IsUnmapLoopHeader(block.BranchValue.Syntax))
            {
                // A loop that unmaps pages kept elsewhere (a list, an array) unmaps those handed away, whatever the number
                // of iterations: from its header on they are not counted as held.
                current = current.Map(c => DropEscapedMappings(c, -1));
                if (current is null)
                {
                    return;
                }
            }

            (FlowState? whenTrue, FlowState? whenFalse) = Split(block, current);
            bool jumpWhenTrue = block.ConditionKind == ControlFlowConditionKind.WhenTrue;
            Follow(block, block.ConditionalSuccessor, jumpWhenTrue ? whenTrue : whenFalse, sink);
            Follow(block, block.FallThroughSuccessor, jumpWhenTrue ? whenFalse : whenTrue, sink);
        }
        else
        {
            Follow(block, block.FallThroughSuccessor, current, sink);
        }
    }

    private void Follow(BasicBlock block, ControlFlowBranch? branch, FlowState? state, Sink sink)
    {
        if (branch is null || state is null)
        {
            return;
        }

        switch (branch.Semantics)
        {
            case ControlFlowBranchSemantics.Throw when block.BranchValue is { } thrown && BodyFacts.Unwrap(thrown).IsImplicit:
                // The compiler's own throw (a switch expression with no matching arm): not a path the code wrote.
                return;
            case ControlFlowBranchSemantics.Throw:
            case ControlFlowBranchSemantics.Rethrow:
                Throw(block, state, sink);
                return;
            case ControlFlowBranchSemantics.StructuredExceptionHandling:
                sink.FinallyOut = FlowState.Join(sink.FinallyOut, state);
                return;
            case ControlFlowBranchSemantics.ProgramTermination:
            case ControlFlowBranchSemantics.Error:
            case ControlFlowBranchSemantics.None:
                return;
        }

        FlowState? current = state;
        foreach (ControlFlowRegion finallyRegion in branch.FinallyRegions)
        {
            current = RunFinally(finallyRegion, current);
            if (current is null)
            {
                return;
            }
        }

        if (branch.Destination is null)
        {
            return;
        }

        if (branch.Destination.Kind == BasicBlockKind.Exit)
        {
            Exit(DescribeExit(block), current);
            return;
        }

        sink.Deliver(branch.Destination.Ordinal, current);
    }

    private void Throw(BasicBlock block, FlowState state, Sink sink)
    {
        ITypeSymbol? thrown = block.BranchValue is { } value ? (value is IConversionOperation conversion ? conversion.Operand.Type : value.Type) : null;
        FlowState? current = state;
        for (ControlFlowRegion? region = block.EnclosingRegion; region is not null && current is not null; region = PathFacts.Outer(_cfg, region))
        {
            if (region.Kind != ControlFlowRegionKind.Try || region.EnclosingRegion is not { } parent)
            {
                continue;
            }

            if (parent.Kind == ControlFlowRegionKind.TryAndCatch)
            {
                bool caughtAll = false;
                foreach (ControlFlowRegion handler in parent.NestedRegions.Skip(1))
                {
                    sink.Deliver(handler.FirstBlockOrdinal, current);
                    if (handler.Kind == ControlFlowRegionKind.Catch && (IsCatchAll(handler.ExceptionType) || IsCaughtBy(thrown, handler.ExceptionType)))
                    {
                        caughtAll = true;
                    }
                }

                if (caughtAll)
                {
                    return;
                }
            }
            else if (parent.Kind == ControlFlowRegionKind.TryAndFinally && parent.NestedRegions.Length > 1)
            {
                current = RunFinally(parent.NestedRegions[1], current);
            }
        }

        if (current is not null)
        {
            Exit(DescribeThrow(block), current);
        }
    }

    /// <summary>
    /// A runtime call that fails throws DmaBufException and changes nothing: the state before it goes to the enclosing
    /// handlers that may catch that (through the finally regions on the way). A failure no handler catches leaves the
    /// body as an exception from a call, which is not a path the rules judge.
    /// </summary>
    private void Fail(FlowState state)
    {
        if (_block is null || _sink is null)
        {
            return;
        }

        if (!IsCaughtAround(_block))
        {
            return;
        }

        FlowState? current = state.Map(ClearPending);
        for (ControlFlowRegion? region = _block.EnclosingRegion; region is not null && current is not null; region = PathFacts.Outer(_cfg, region))
        {
            if (region.Kind != ControlFlowRegionKind.Try || region.EnclosingRegion is not { } parent)
            {
                continue;
            }

            if (parent.Kind == ControlFlowRegionKind.TryAndCatch)
            {
                bool caught = false;
                foreach (ControlFlowRegion handler in parent.NestedRegions.Skip(1))
                {
                    if (_symbols.CatchesFailure(handler.ExceptionType))
                    {
                        _sink.Deliver(handler.FirstBlockOrdinal, current);
                        caught |= handler.Kind == ControlFlowRegionKind.Catch;
                    }
                }

                if (caught)
                {
                    return;
                }
            }
            else if (parent.Kind == ControlFlowRegionKind.TryAndFinally && parent.NestedRegions.Length > 1)
            {
                current = RunFinally(parent.NestedRegions[1], current);
            }
        }
    }

    /// <summary>Whether a handler around the block may catch a failure of a runtime call.</summary>
    private bool IsCaughtAround(BasicBlock block)
    {
        for (ControlFlowRegion? region = block.EnclosingRegion; region is not null; region = PathFacts.Outer(_cfg, region))
        {
            if (region.Kind == ControlFlowRegionKind.Try && region.EnclosingRegion is { Kind: ControlFlowRegionKind.TryAndCatch } parent &&
                parent.NestedRegions.Skip(1).Any(h => _symbols.CatchesFailure(h.ExceptionType)))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsCaughtBy(ITypeSymbol? thrown, ITypeSymbol? caught)
    {
        for (ITypeSymbol? type = thrown; type is not null && caught is not null; type = type.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(type, caught))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsCatchAll(ITypeSymbol? type) =>
        type is null || type.SpecialType == SpecialType.System_Object || (type.Name == "Exception" && type.ContainingNamespace?.ToDisplayString() == "System" && type.ContainingType is null);

    private void Exit(ExitPath exit, FlowState state)
    {
        if (!_final || _quiet || state.IsTop)
        {
            return;
        }

        if (!exit.IsThrow)
        {
            foreach (Config config in state.Configs)
            {
                _netAtomic = Math.Max(_netAtomic, config.AtomicCount);
            }
        }

        if (!_rules.IsEmpty && _report is not null)
        {
            foreach (FlowClient rule in _rules)
            {
                rule.OnExit(_report, exit, state);
            }
        }
    }

    private (FlowState? WhenTrue, FlowState? WhenFalse) Split(BasicBlock block, FlowState state)
    {
        if (block.BranchValue!.ConstantValue is { HasValue: true, Value: bool constant })
        {
            // `while (true)`: the branch the constant rules out is never taken.
            return constant ? (state, null) : (null, state);
        }

        if (state.IsTop)
        {
            return (state, state);
        }

        // What the paths know of the tested value: a second test of an unchanged value follows the first.
        (FlowState? whenTrue, FlowState? whenFalse) = _paths.Split(block, state);
        if (block.BranchValue is IIsPatternOperation { Pattern: { } typePattern } isPattern && MatchedType(typePattern) is { } matched)
        {
            // A variable that holds a buffer, page, scope or table on a path is one of those, and not null.
            ImmutableArray<int> typed = HoldersOf(isPattern.Value);
            if (!typed.IsEmpty)
            {
                whenFalse = whenFalse?.Where(c => !HoldsA(c, typed, matched));
            }
        }

        (IOperation? tested, bool whenTrueIsNull) = NullTest(block.BranchValue!);
        if (tested is null)
        {
            return (whenTrue, whenFalse);
        }

        ImmutableArray<int> holders = HoldersOf(tested);
        if (holders.IsEmpty)
        {
            return (whenTrue, whenFalse);
        }

        // A scope or page that a path holds is not null: that path does not take the "is null" branch.
        return whenTrueIsNull ? (whenTrue?.Where(c => !Holds(c, holders)), whenFalse) : (whenTrue, whenFalse?.Where(c => !Holds(c, holders)));
    }

    /// <summary>The local a declaration pattern (`is DmaBuffer d`, `is { } p`) gives the tested value to.</summary>
    private static ILocalSymbol? DeclaredBy(IPatternOperation pattern) => pattern switch
    {
        IDeclarationPatternOperation { DeclaredSymbol: ILocalSymbol local } => local,
        IRecursivePatternOperation { DeclaredSymbol: ILocalSymbol local } => local,
        _ => null,
    };

    private static ITypeSymbol? MatchedType(IPatternOperation pattern) => pattern switch
    {
        IDeclarationPatternOperation declaration => declaration.MatchedType,
        ITypePatternOperation type => type.MatchedType,
        IRecursivePatternOperation { DeconstructionSubpatterns.Length: 0, PropertySubpatterns.Length: 0 } recursive => recursive.MatchedType,
        _ => null,
    };

    /// <summary>Whether a path holds, by one of <paramref name="holders"/>, a record whose value is a <paramref name="type"/>.</summary>
    private bool HoldsA(Config config, ImmutableArray<int> holders, ITypeSymbol type)
    {
        bool Is(ITypeSymbol? actual) =>
            actual is not null && (type.SpecialType == SpecialType.System_Object || SymbolEqualityComparer.Default.Equals(Underlying(type), actual) || actual.AllInterfaces.Any(i => SymbolEqualityComparer.Default.Equals(i, type)));

        return (PathRecords.AnyHeldBy(config.Open, holders) && Is(_symbols.CpuAccessScope)) ||
            (PathRecords.AnyHeldBy(config.Held, holders) && Is(_symbols.DmaBufPage)) ||
            config.Resources.Any(r => PathRecords.SharesHolder(r.Holders, holders) && Is(r.Kind == ResourceKind.Reference ? _symbols.DmaBuffer : _symbols.ScatterGatherTable));
    }

    private static ITypeSymbol Underlying(ITypeSymbol type) =>
        type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable ? nullable.TypeArguments[0] : type;

    /// <summary>A write the engine does not follow as a value (compound, by reference, deconstruction): what paths knew of it is forgotten.</summary>
    private FlowState? Written(IOperation target, FlowState state)
    {
        ISymbol? symbol = WrittenSymbol(target);
        return symbol is null ? state : state.Map(c => Written(c, symbol));
    }

    private Config Written(Config config, ISymbol symbol)
    {
        // A range begun over this value is no longer the same value as the expression written the same way later.
        Config next = config.Open.Any(a => a.Range.HasKey) ? config.WithOpen(config.Open.Select(a => Forget(a, symbol)).ToImmutableArray()) : config;

        if (symbol is ILocalSymbol)
        {
            next = Rebound(next, symbol);
        }

        // A page number computed from this value no longer names the mapped page by its expression.
        if (next.Held.Any(m => DependsOn(m.PageKey, symbol)))
        {
            next = next.WithHeld(next.Held.Select(m => DependsOn(m.PageKey, symbol) ? m.With(pageKey: -1) : m).ToImmutableArray());
        }

        // A parameter or member given a new value after its Put holds that value, not the reference that was put.
        foreach (int released in next.Released.Keys)
        {
            if (released < -1 && released != NoVariable && DependsOn(-released - 2, symbol))
            {
                next = next.WithReleased(next.Released.Remove(released));
            }
        }

        return _paths.Any ? _paths.Forget(next, symbol) : next;
    }

    /// <summary>
    /// A local given a new value denotes another buffer from here on: what it knew of the old one is forgotten (an access
    /// still open on it can no longer be ended through this variable, so it is taken as handed away, not as leaked).
    /// </summary>
    private Config Rebound(Config config, ISymbol local)
    {
        Config next = config;
        for (int key = 0; key < _keys.Count; key++)
        {
            if (!SymbolEqualityComparer.Default.Equals(_keys[key].Root, local))
            {
                continue;
            }

            if (next.Open.Any(a => a.Key == key && !a.Escaped))
            {
                next = next.WithOpen(next.Open.Select(a => a.Key == key ? a.With(escaped: true) : a).ToImmutableArray());
            }

            if (next.Ended.ContainsKey(key))
            {
                next = next.WithEnded(next.Ended.Remove(key));
            }

            if (next.Unknown.ContainsKey(key))
            {
                next = next.WithUnknown(next.Unknown.Remove(key));
            }
        }

        return next;
    }

    private AccessRecord Forget(AccessRecord access, ISymbol written) =>
        access.Range.HasKey && (DependsOn(access.Range.StartOperand.Key, written) || DependsOn(access.Range.LengthOperand.Key, written) || DependsOn(access.Range.DirectionOperand.Key, written))
            ? access.With(range: access.Range.Without(key => DependsOn(key, written)))
            : access;

    private bool DependsOn(int key, ISymbol written) => key >= 0 && _paths.Keys.DependsOn(key, written);

    private static ISymbol? WrittenSymbol(IOperation target) => BodyFacts.Unwrap(target) switch
    {
        ILocalReferenceOperation local => local.Local,
        IParameterReferenceOperation parameter => parameter.Parameter,
        IFieldReferenceOperation field => field.Field,
        IPropertyReferenceOperation property => property.Property,
        _ => null,
    };

    /// <summary>The operand of a null test (<c>is null</c>, <c>== null</c>, <c>!= null</c>, <c>is not null</c>), and whether "true" means null.</summary>
    private static (IOperation? Tested, bool WhenTrueIsNull) NullTest(IOperation condition)
    {
        switch (condition)
        {
            case IIsNullOperation isNull:
                return (isNull.Operand, true);
            case IBinaryOperation { OperatorKind: BinaryOperatorKind.Equals or BinaryOperatorKind.NotEquals } binary:
                bool equals = binary.OperatorKind == BinaryOperatorKind.Equals;
                if (IsNullLiteral(binary.RightOperand))
                {
                    return (binary.LeftOperand, equals);
                }

                return IsNullLiteral(binary.LeftOperand) ? (binary.RightOperand, equals) : (null, false);
            case IIsPatternOperation { Pattern: IConstantPatternOperation constant } pattern when IsNullLiteral(constant.Value):
                return (pattern.Value, true);
            case IIsPatternOperation { Pattern: INegatedPatternOperation { Pattern: IConstantPatternOperation constant } } pattern when IsNullLiteral(constant.Value):
                return (pattern.Value, false);
            case IPropertyReferenceOperation { Property.Name: "HasValue", Instance: { } nullable } when IsNullableValue(nullable):
                return (nullable, false);
            default:
                return (null, false);
        }
    }

    private static bool IsNullLiteral(IOperation operation) =>
        operation.ConstantValue.HasValue && operation.ConstantValue.Value is null;

    private static bool Holds(Config config, ImmutableArray<int> holders) =>
        PathRecords.AnyHeldBy(config.Open, holders) || PathRecords.AnyHeldBy(config.Held, holders) || PathRecords.AnyHeldBy(config.Resources, holders);

    private static bool Holds(Config config, int holder) =>
        PathRecords.AnyHeldBy(config.Open, holder) || PathRecords.AnyHeldBy(config.Held, holder) || PathRecords.AnyHeldBy(config.Resources, holder);

    // ---- Operations ------------------------------------------------------------------------------------------

    private FlowState? VisitRoot(IOperation root, FlowState? state, bool escapes)
    {
        if (state is null)
        {
            return null;
        }

        _branchRoot = root;
        _branchEscapes = escapes;
        FlowState? result = Visit(root, state);
        return result?.Map(ClearPending);
    }

    private FlowState? Visit(IOperation op, FlowState? state)
    {
        if (state is null)
        {
            return null;
        }

        if (op is IFlowAnonymousFunctionOperation)
        {
            return state;
        }

        FlowState? current = state;
        foreach (IOperation child in op.ChildOperations)
        {
            current = Visit(child, current);
            if (current is null)
            {
                return null;
            }
        }

        return Apply(op, current);
    }

    private bool Reporting => _final && !_quiet && !_rules.IsEmpty && _report is not null;

    private FlowState? Apply(IOperation op, FlowState state)
    {
        if (state.IsTop)
        {
            return state;
        }

        if (Reporting)
        {
            foreach (FlowClient rule in _rules)
            {
                rule.OnOperation(_report!, op, state);
            }
        }

        FlowState? result = op switch
        {
            IInvocationOperation invocation => Invocation(invocation, state),
            ISimpleAssignmentOperation assignment => Assign(assignment.Target, assignment.Value, state),
            IFlowCaptureOperation capture => Capture(capture, state),
            ICompoundAssignmentOperation compound => Written(compound.Target, state),
            ICoalesceAssignmentOperation coalesce => Written(coalesce.Target, state),
            IIncrementOrDecrementOperation increment => Increment(increment, state),
            IArgumentOperation { Parameter.RefKind: RefKind.Ref or RefKind.Out } byReference => Written(byReference.Value, state),
            IDeconstructionAssignmentOperation deconstruction => Deconstruction(deconstruction, state),
            IIsPatternOperation pattern when DeclaredBy(pattern.Pattern) is { } declared => Store(LocalHolder(declared), pattern.Value, state, _facts.IsCaptured(declared)),
            ILocalReferenceOperation or IFlowCaptureReferenceOperation or IParameterReferenceOperation or IFieldReferenceOperation or IPropertyReferenceOperation or IInstanceReferenceOperation => Reference(op, state),
            _ => state,
        };

        if (_final && !_quiet && result is { IsTop: false })
        {
            foreach (Config config in result.Configs)
            {
                _maxAtomic = Math.Max(_maxAtomic, config.AtomicCount);
            }
        }

        return result;
    }

    private FlowState? Invocation(IInvocationOperation invocation, FlowState state)
    {
        IMethodSymbol method = invocation.TargetMethod;
        if (_paths.Any)
        {
            state = state.Map(c => _paths.ForgetResult(c, invocation)) ?? state;
        }

        if (!_final && _symbols.MayFail(method))
        {
            Fail(state);
        }

        bool scope = KnownSymbols.IsSame(method, _symbols.CpuAccess);
        if (scope || KnownSymbols.IsSame(method, _symbols.BeginCpuAccess))
        {
            return Begin(invocation, scope, state);
        }

        if (KnownSymbols.IsSame(method, _symbols.EndCpuAccess))
        {
            return End(invocation, state);
        }

        bool atomic = KnownSymbols.IsSame(method, _symbols.KmapAtomic);
        if (atomic || KnownSymbols.IsSame(method, _symbols.Kmap))
        {
            return Kmap(invocation, atomic, state);
        }

        bool atomicUnmap = KnownSymbols.IsSame(method, _symbols.KunmapAtomic);
        if (atomicUnmap || KnownSymbols.IsSame(method, _symbols.Kunmap))
        {
            return Unmap(invocation, atomicUnmap, state);
        }

        if (IsDispose(invocation))
        {
            return Dispose(invocation, state);
        }

        if (SymbolEqualityComparer.Default.Equals(method.ContainingType, _symbols.DmaBuffer))
        {
            return Sharing(invocation, state);
        }

        FlowState? result = state;
        if (SummaryOf(invocation) is { } summary)
        {
            result = Call(invocation, summary, state);
        }

        if (_anyThisKey && !method.IsStatic && invocation.Instance is IInstanceReferenceOperation)
        {
            bool opens = LeavesOpen(method);
            result = result?.Map(c => EscapeThisRooted(c, opens));
        }

        return result;
    }

    // ---- Sharing: references, attachments and their tables (DMA0009–DMA0011) ----------------------------------------

    private FlowState? Sharing(IInvocationOperation invocation, FlowState state)
    {
        IMethodSymbol method = invocation.TargetMethod;
        bool export = KnownSymbols.IsSame(method, _symbols.Export);
        if (export || KnownSymbols.IsSame(method, _symbols.Get))
        {
            // Each call takes a new reference; one the body already holds from this site (a loop) is not counted twice.
            var record = new ResourceRecord(invocation, SiteId(invocation), ResourceKind.Reference, ImmutableArray.Create(Pending), false, export, -1, null);
            return ResultUsage(invocation, state.Map(c => AddResource(c, record)));
        }

        if (KnownSymbols.IsSame(method, _symbols.Attach) && invocation.Instance is { } attachedTo && UsageOf(invocation) == Usage.Escape)
        {
            return AttachmentEscapes(attachedTo, state);
        }

        if (KnownSymbols.IsSame(method, _symbols.MapAttachment))
        {
            int attachment = invocation.Arguments.Length > 0 ? AttachmentId(invocation.Arguments[0].Value) : -1;
            var record = new ResourceRecord(invocation, SiteId(invocation), ResourceKind.Table, ImmutableArray.Create(Pending), false, false, attachment, null);
            return ResultUsage(invocation, state.Map(c => AddResource(c, record)));
        }

        ImmutableArray<int> receiver = invocation.Instance is null ? ImmutableArray<int>.Empty : HoldersOf(invocation.Instance);
        if (KnownSymbols.IsSame(method, _symbols.Put))
        {
            int variable = invocation.Instance is null ? NoVariable : ReleaseId(invocation.Instance);
            return receiver.IsEmpty && variable == NoVariable ? state : state.Map(c => PutReference(c, receiver, variable, invocation));
        }

        if (KnownSymbols.IsSame(method, _symbols.Fd))
        {
            // A descriptor holds a reference of its own: a later Put is no longer the last.
            return receiver.IsEmpty ? state : state.Map(c => c.Resources.Any(r => r.Sole && PathRecords.SharesHolder(r.Holders, receiver))
                ? c.WithResources(c.Resources.Select(r => r.Sole && PathRecords.SharesHolder(r.Holders, receiver) ? r.With(sole: false) : r).ToImmutableArray())
                : c);
        }

        if (KnownSymbols.IsSame(method, _symbols.UnmapAttachment))
        {
            ImmutableArray<int> table = invocation.Arguments.Length > 1 ? HoldersOf(invocation.Arguments[1].Value) : ImmutableArray<int>.Empty;
            return table.IsEmpty ? state : state.Map(c => TableHeldBy(c, table) is { } record ? c.WithResources(c.Resources.Remove(record)) : c);
        }

        if (KnownSymbols.IsSame(method, _symbols.Detach))
        {
            // What the rules had to say about tables still mapped was said before the call; they are gone with it.
            int attachment = invocation.Arguments.Length > 0 ? AttachmentId(invocation.Arguments[0].Value) : -1;
            return attachment < 0 ? state : state.Map(c => c.Resources.Any(r => r.Kind == ResourceKind.Table && r.Attachment == attachment)
                ? c.WithResources(c.Resources.RemoveAll(r => r.Kind == ResourceKind.Table && r.Attachment == attachment))
                : c);
        }

        return state;
    }

    private static Config AddResource(Config config, ResourceRecord record) =>
        config.Resources.Count(r => r.SiteId == record.SiteId) >= MaxSameSite ? config : config.WithResources(config.Resources.Add(record));

    /// <summary>
    /// The code's own Put: the reference the receiver held is given back (its record, if the body took it, is gone), and
    /// the variable it was read from, with every local that held the same reference, holds none any more (DMA0011 at a
    /// later use), whether or not other references to the buffer remain.
    /// </summary>
    private static Config PutReference(Config config, ImmutableArray<int> receiver, int variable, IInvocationOperation put)
    {
        ResourceRecord? record = receiver.IsEmpty ? null : ReferenceHeldBy(config, receiver);
        Config next = record is null ? config : config.WithResources(config.Resources.Remove(record));
        ImmutableDictionary<int, IOperation> released = next.Released;
        if (record is not null)
        {
            foreach (int holder in record.Holders)
            {
                released = released.SetItem(holder, put);
            }
        }

        if (variable != NoVariable)
        {
            released = released.SetItem(variable, put);
        }

        return ReferenceEquals(released, next.Released) ? next : next.WithReleased(released);
    }

    /// <summary>No variable a Put can be said to empty (an element of an array, a call's result).</summary>
    public const int NoVariable = int.MinValue;

    /// <summary>
    /// The variable an expression reads, as <see cref="Config.Released"/> names it: a local by its holder id, a parameter,
    /// field or property chain by its value key (as a negative id), a flow capture by what it captured; or <see cref="NoVariable"/>.
    /// </summary>
    public int ReleaseId(IOperation operation)
    {
        IOperation unwrapped = Unwrapped(operation);
        if (unwrapped is IFlowCaptureReferenceOperation capture && _facts.CaptureValues(capture.Id) is { Count: 1 } values)
        {
            unwrapped = Unwrapped(values[0]);
        }

        switch (unwrapped)
        {
            case ILocalReferenceOperation local:
                return LocalHolder(local.Local);
            case IParameterReferenceOperation or IFieldReferenceOperation or IPropertyReferenceOperation:
                int key = _paths.Keys.KeyOf(unwrapped);
                return key < 0 ? NoVariable : -(key + 2);
            default:
                return NoVariable;
        }
    }

    /// <summary>The buffer reference a variable (or flow capture) holds on this path, or null.</summary>
    public static ResourceRecord? ReferenceHeldBy(Config config, ImmutableArray<int> holders) => ResourceHeldBy(config, holders, ResourceKind.Reference);

    /// <summary>The attachment table a variable (or flow capture) holds on this path, or null.</summary>
    public static ResourceRecord? TableHeldBy(Config config, ImmutableArray<int> holders) => ResourceHeldBy(config, holders, ResourceKind.Table);

    private static ResourceRecord? ResourceHeldBy(Config config, ImmutableArray<int> holders, ResourceKind kind)
    {
        for (int i = config.Resources.Length - 1; i >= 0; i--)
        {
            ResourceRecord record = config.Resources[i];
            if ((record.Kind == kind || kind == ResourceKind.Reference && record.Kind == ResourceKind.CallerReference) && PathRecords.SharesHolder(record.Holders, holders))
            {
                return record;
            }
        }

        return null;
    }

    /// <summary>The holders an expression denotes (a local or a flow capture), for the rules.</summary>
    public ImmutableArray<int> HoldersOfExpression(IOperation? expression)
    {
        ImmutableArray<int> holders = expression is null ? ImmutableArray<int>.Empty : HoldersOf(expression);
        return holders.Contains(Pending) ? ImmutableArray<int>.Empty : holders;
    }

    /// <summary>
    /// The id of the attachment an argument denotes, when it can be followed: a local written once and not captured,
    /// or a parameter never written. Otherwise -1.
    /// </summary>
    public int AttachmentId(IOperation argument)
    {
        IOperation unwrapped = BodyFacts.Unwrap(argument);
        return unwrapped switch
        {
            ILocalReferenceOperation local when _facts.IsStableLocal(local.Local) && !_facts.IsCaptured(local.Local) => LocalHolder(local.Local),
            IParameterReferenceOperation parameter when _facts.IsUnwrittenParameter(parameter.Parameter) => LocalHolder(parameter.Parameter),
            _ => -1,
        };
    }

    /// <summary>
    /// The one value a local is given, when it is written exactly once and not captured (so it denotes that value
    /// wherever it is read), or null.
    /// </summary>
    public IOperation? StableValue(IOperation? expression)
    {
        if (expression is null)
        {
            return null;
        }

        IOperation unwrapped = BodyFacts.Unwrap(expression is IConversionOperation conversion ? conversion.Operand : expression);
        return unwrapped is ILocalReferenceOperation local && _facts.IsStableLocal(local.Local) && !_facts.IsCaptured(local.Local) && _facts.SingleValue(local.Local) is { } value
            ? BodyFacts.Unwrap(value)
            : null;
    }

    /// <summary>The name of the local a holder id stands for, or null for a flow capture.</summary>
    public string? HolderName(int holder) => _holderNames.TryGetValue(holder, out string? name) ? name : null;

    private bool IsDispose(IInvocationOperation invocation)
    {
        IMethodSymbol method = invocation.TargetMethod;
        if (KnownSymbols.IsSame(method, _symbols.DmaBufPageDispose) || KnownSymbols.IsSame(method, _symbols.CpuAccessScopeDispose))
        {
            return true;
        }

        if (method.Name != nameof(IDisposable.Dispose) || method.Parameters.Length != 0 || method.ContainingType?.SpecialType != SpecialType.System_IDisposable || invocation.Instance is null)
        {
            return false;
        }

        ITypeSymbol? type = BodyFacts.Unwrap(invocation.Instance).Type;
        if (invocation.Instance is IConversionOperation conversion)
        {
            type = conversion.Operand.Type;
        }

        return SymbolEqualityComparer.Default.Equals(type, _symbols.DmaBufPage) || SymbolEqualityComparer.Default.Equals(type, _symbols.CpuAccessScope);
    }

    private bool IsPage(IOperation operation)
    {
        IOperation unwrapped = operation is IConversionOperation conversion ? conversion.Operand : operation;
        return SymbolEqualityComparer.Default.Equals(unwrapped.Type, _symbols.DmaBufPage);
    }

    /// <summary>The CpuAccess call whose scope a local written once (or a flow capture, as a using makes) holds.</summary>
    private IInvocationOperation? ScopeHeldBy(IOperation expression)
    {
        IOperation unwrapped = Unwrapped(expression);
        IOperation? value = unwrapped switch
        {
            ILocalReferenceOperation local when _facts.IsStableLocal(local.Local) && !_facts.IsCaptured(local.Local) => _facts.SingleValue(local.Local),
            IFlowCaptureReferenceOperation capture when _facts.CaptureValues(capture.Id) is { Count: 1 } values => values[0],
            _ => null,
        };

        return value is not null && Unwrapped(value) is IInvocationOperation call && KnownSymbols.IsSame(call.TargetMethod, _symbols.CpuAccess) ? call : null;
    }

    /// <summary>
    /// The kmap whose result a local holds, when the local is written exactly once, from a kmap of this body, and is
    /// not captured: such a local holds no mapping only after that mapping was unmapped.
    /// </summary>
    public IInvocationOperation? KmapHeldBy(IOperation? expression)
    {
        if (expression is null)
        {
            return null;
        }

        IOperation unwrapped = expression is IConversionOperation conversion ? conversion.Operand : expression;
        if (BodyFacts.Unwrap(unwrapped) is not ILocalReferenceOperation local || !_facts.IsStableLocal(local.Local) || _facts.IsCaptured(local.Local) ||
            _facts.SingleValue(local.Local) is not { } value || BodyFacts.Unwrap(value) is not IInvocationOperation kmap)
        {
            return null;
        }

        return KnownSymbols.IsSame(kmap.TargetMethod, _symbols.Kmap) || KnownSymbols.IsSame(kmap.TargetMethod, _symbols.KmapAtomic) ? kmap : null;
    }

    private FlowState? Begin(IInvocationOperation invocation, bool scope, FlowState state)
    {
        int key = KeyId(invocation.Instance);
        AccessRange range = RangeOf(invocation);
        if (Reporting)
        {
            foreach (FlowClient rule in _rules)
            {
                rule.OnBegin(_report!, invocation, key, range, state);
            }
        }

        if (key < 0 && !scope)
        {
            return state;
        }

        var record = new AccessRecord(invocation, SiteId(invocation), key, range, scope, scope ? ImmutableArray.Create(Pending) : ImmutableArray<int>.Empty, false);
        FlowState? result = state.Map(c =>
        {
            // A begin again while its access is still open (a retry loop) opens a second access, up to a bound that
            // keeps loops converging; scopes are one per holder.
            ImmutableArray<AccessRecord> open = (scope ? c.Open.Any(a => a.SiteId == record.SiteId && a.Holders.SequenceEqual(record.Holders)) : c.Open.Count(a => a.SiteId == record.SiteId) >= MaxSameSite) ? c.Open : c.Open.Add(record);
            return new Config(open, c.Held, key >= 0 ? c.Ended.Remove(key) : c.Ended, c.Unknown, c.Facts, c.Resources, c.Released);
        });
        return scope ? ResultUsage(invocation, result) : result;
    }

    private FlowState? End(IInvocationOperation invocation, FlowState state)
    {
        int key = KeyId(invocation.Instance);
        AccessRange range = RangeOf(invocation);
        if (Reporting)
        {
            foreach (FlowClient rule in _rules)
            {
                rule.OnEnd(_report!, invocation, key, range, state, null);
            }
        }

        return key < 0 ? state : state.Map(c => Ended(c, key, range, invocation));
    }

    /// <summary>An end of the access on <paramref name="key"/> with <paramref name="range"/>: it ends what it matches, or the caller's.</summary>
    private Config Ended(Config config, int key, AccessRange range, IOperation at)
    {
        (EndMatch match, AccessRecord? record) = MatchEnd(config, key, range);
        Config next = config;
        if (record is not null)
        {
            next = next.WithOpen(next.Open.Remove(record));
        }
        else if (match == EndMatch.External)
        {
            next = next.WithUnknown(next.Unknown.SetItem(key, false));
        }

        return next.WithEnded(next.Ended.SetItem(key, at));
    }

    /// <summary>Which open access an end on <paramref name="key"/> with <paramref name="range"/> ends on this path.</summary>
    public (EndMatch Match, AccessRecord? Record) MatchEnd(Config config, int key, AccessRange range)
    {
        AccessRecord? loose = null;
        AccessRecord? mismatch = null;
        AccessRecord? exactScope = null;
        foreach (AccessRecord access in config.Open)
        {
            if (access.Key != key)
            {
                continue;
            }

            switch (range.Compare(access.Range))
            {
                case Sameness.Same when !access.IsScope:
                    return (EndMatch.Exact, access);
                case Sameness.Same:
                    exactScope ??= access;
                    break;
                case Sameness.Unknown:
                    loose ??= access;
                    break;
                default:
                    mismatch ??= access;
                    break;
            }
        }

        if (exactScope is not null)
        {
            return (EndMatch.Exact, exactScope);
        }

        if (loose is not null)
        {
            return (EndMatch.Loose, loose);
        }

        if (HasUnknownAccess(config, key))
        {
            return (EndMatch.External, null);
        }

        return mismatch is not null ? (EndMatch.Mismatch, mismatch) : (EndMatch.Nothing, null);
    }

    private FlowState? Kmap(IInvocationOperation invocation, bool atomic, FlowState state)
    {
        int key = KeyId(invocation.Instance);
        IOperation? pageArgument = invocation.Arguments.Length > 0 ? invocation.Arguments[0].Value : null;
        Interval? page = _values.Evaluate(pageArgument);
        string pageText = PageText(pageArgument, page);
        if (Reporting)
        {
            var kmap = new KmapEvent(invocation, key, page, pageText, atomic);
            foreach (FlowClient rule in _rules)
            {
                rule.OnKmap(_report!, kmap, state);
            }
        }

        int pageKey = pageArgument is null || page is { IsConstant: true } ? -1 : _paths.Keys.KeyOf(pageArgument);
        var record = new MappingRecord(invocation, SiteId(invocation), key, page, pageText, atomic, ImmutableArray.Create(Pending), false, null, pageKey);
        FlowState? result = state.Map(c => c.Held.Count(m => m.SiteId == record.SiteId) >= MaxSameSite ? c : c.WithHeld(c.Held.Add(record)));
        return ResultUsage(invocation, result);
    }

    private FlowState? Unmap(IInvocationOperation invocation, bool atomic, FlowState state)
    {
        int key = KeyId(invocation.Instance);
        IOperation? pageArgument = invocation.Arguments.Length > 0 ? invocation.Arguments[0].Value : null;
        Interval? page = _values.Evaluate(pageArgument);
        ImmutableArray<int> holders = invocation.Arguments.Length > 1 ? HoldersOf(invocation.Arguments[1].Value) : ImmutableArray<int>.Empty;
        if (Reporting)
        {
            var unmap = new UnmapEvent(invocation, key, page, PageText(pageArgument, page), atomic, holders, invocation.Arguments.Length > 1 ? invocation.Arguments[1].Value : null, isDispose: false);
            foreach (FlowClient rule in _rules)
            {
                rule.OnUnmap(_report!, unmap, state);
            }
        }

        return state.Map(c => !holders.IsEmpty && MappingHeldBy(c, holders) is not null ? RemoveMapping(c, holders) : DropEscapedMappings(c, key));
    }

    /// <summary>
    /// An unmap of a page the body does not hold (kept in a list, an array, a field): it may be any mapping that was
    /// handed away, so none of those on that buffer (any buffer, when it is not known) is counted as held any more.
    /// </summary>
    private static Config DropEscapedMappings(Config config, int key)
    {
        bool Matches(MappingRecord m) => m.Escaped && (key < 0 || m.Key < 0 || m.Key == key);
        return config.Held.Any(Matches) ? config.WithHeld(config.Held.RemoveAll(Matches)) : config;
    }

    /// <summary>The mapping a variable (or flow capture) holds on this path, or null.</summary>
    public static MappingRecord? MappingHeldBy(Config config, ImmutableArray<int> holders)
    {
        for (int i = config.Held.Length - 1; i >= 0; i--)
        {
            if (PathRecords.SharesHolder(config.Held[i].Holders, holders))
            {
                return config.Held[i];
            }
        }

        return null;
    }

    private static Config RemoveMapping(Config config, ImmutableArray<int> holders)
    {
        MappingRecord? record = MappingHeldBy(config, holders);
        return record is null ? config : config.WithHeld(config.Held.Remove(record));
    }

    private FlowState? Dispose(IInvocationOperation invocation, FlowState state)
    {
        ImmutableArray<int> holders = invocation.Instance is null ? ImmutableArray<int>.Empty : HoldersOf(invocation.Instance);
        if (holders.IsEmpty)
        {
            return invocation.Instance is { } unknown && IsPage(unknown) ? state.Map(c => DropEscapedMappings(c, -1)) : state;
        }

        if (Reporting && invocation.Instance is { } instance && IsPage(instance))
        {
            var unmap = new UnmapEvent(invocation, -1, null, "?", false, holders, instance, isDispose: true);
            foreach (FlowClient rule in _rules)
            {
                rule.OnUnmap(_report!, unmap, state);
            }
        }

        if (Reporting && invocation.Instance is { } disposedScope && ScopeHeldBy(disposedScope) is { } begin)
        {
            // A scope whose access an explicit EndCpuAccess with the same range already ended ends it again here.
            int key = KeyId(begin.Instance);
            AccessRange range = RangeOf(begin);
            if (key >= 0 && state.Configs.Any(c => !Holds(c, holders) && c.Ended.TryGetValue(key, out IOperation? ended) &&
                ended is IInvocationOperation end && KnownSymbols.IsSame(end.TargetMethod, _symbols.EndCpuAccess) && RangeOf(end).SameAs(range)))
            {
                foreach (FlowClient rule in _rules)
                {
                    rule.OnEnd(_report!, invocation, key, range, state, null);
                }
            }
        }

        bool page = invocation.Instance is { } disposed && IsPage(disposed);
        return state.Map(c =>
        {
            if (page && MappingHeldBy(c, holders) is null)
            {
                return DropEscapedMappings(c, -1);
            }

            Config next = RemoveMapping(c, holders);
            AccessRecord? scope = c.Open.LastOrDefault(a => PathRecords.SharesHolder(a.Holders, holders));
            if (scope is not null)
            {
                next = next.WithOpen(next.Open.Remove(scope));
                if (scope.Key >= 0)
                {
                    next = next.WithEnded(next.Ended.SetItem(scope.Key, invocation));
                }
            }

            return next;
        });
    }

    private MethodSummary? SummaryOf(IInvocationOperation invocation)
    {
        IMethodSymbol method = invocation.TargetMethod;
        if (method.MethodKind == MethodKind.LocalFunction)
        {
            IMethodSymbol local = method.OriginalDefinition;
            return _context.Summaries.Get(local, () => LocalFunctionGraph(local), _context.InProgress, _context.CancellationToken);
        }

        if (method.MethodKind == MethodKind.DelegateInvoke)
        {
            if (invocation.Instance is { } instance && BodyFacts.Unwrap(instance) is ILocalReferenceOperation local && _facts.IsStableLocal(local.Local) &&
                _facts.SingleValue(local.Local) is { } value && BodyFacts.Unwrap(value) is IDelegateCreationOperation { Target: IAnonymousFunctionOperation lambda } &&
                _lambdas.TryGetValue(lambda.Symbol, out IFlowAnonymousFunctionOperation? flow))
            {
                return _context.Summaries.Get(lambda.Symbol, () => _cfg.GetAnonymousFunctionControlFlowGraph(flow, _context.CancellationToken), _context.InProgress, _context.CancellationToken);
            }

            return null;
        }

        return _context.Summaries.IsSummarizable(method) ? _context.Summaries.Get(method, _context.InProgress, _context.CancellationToken) : null;
    }

    private ControlFlowGraph? LocalFunctionGraph(IMethodSymbol local)
    {
        for (ControlFlowGraph? graph = _cfg; graph is not null; graph = graph.Parent)
        {
            if (graph.LocalFunctions.Contains(local, SymbolEqualityComparer.Default))
            {
                return graph.GetLocalFunctionControlFlowGraph(local, _context.CancellationToken);
            }
        }

        return null;
    }

    private FlowState? Call(IInvocationOperation invocation, MethodSummary summary, FlowState state)
    {
        if (Reporting && (summary.MaxHeld > 0 || summary.IsRecursive))
        {
            foreach (FlowClient rule in _rules)
            {
                rule.OnCall(_report!, invocation, summary, state);
            }
        }

        if (_final && !_quiet)
        {
            foreach (Config config in state.Configs)
            {
                int peak = summary.PeakFor(config.AtomicCount);
                if (peak > 0)
                {
                    _maxAtomic = Math.Max(_maxAtomic, config.AtomicCount + peak);
                }
            }
        }

        FlowState? afterContracts = Contracts(invocation, summary, state);
        if (summary.NetHeld == 0 || afterContracts is null)
        {
            return afterContracts;
        }

        state = afterContracts;
        int siteId = SiteId(invocation);
        string callee = invocation.TargetMethod.Name;
        FlowState? result = state.Map(c =>
        {
            ImmutableArray<MappingRecord> held = c.Held;
            for (int i = 0; i < summary.NetHeld && held.Count(m => m.SiteId == siteId) < MaxSameSite; i++)
            {
                bool returned = summary.ReturnsPage && i == 0;
                held = held.Add(new MappingRecord(invocation, siteId, -1, null, "?", true, returned ? ImmutableArray.Create(Pending) : ImmutableArray<int>.Empty, true, callee));
            }

            return c.WithHeld(held);
        });
        return summary.ReturnsPage ? ResultUsage(invocation, result) : result;
    }

    /// <summary>
    /// A call checked against and applied with its callee's contract: per buffer argument, a kmap or end that relies on
    /// the caller's access is judged at the call (with the callee's operation as the related location), and the access
    /// the callee ends, leaves begun, or the reference it puts change the caller's state as the callee's own calls would;
    /// a reference or scope the callee returns is the caller's to give back.
    /// </summary>
    private FlowState? Contracts(IInvocationOperation invocation, MethodSummary summary, FlowState state)
    {
        FlowState? current = state;
        string callee = invocation.TargetMethod.Name;
        foreach (IArgumentOperation argument in invocation.Arguments)
        {
            if (current is null)
            {
                return null;
            }

            ParameterContract contract = argument.Parameter is null ? ParameterContract.Unknown : summary.ContractOf(argument.Parameter.Ordinal);
            if (contract.IsUnknown || !contract.HasEffects)
            {
                continue;
            }

            int key = KeyId(argument.Value);
            if (contract.RequiredBy is { } required && key >= 0 && Reporting && IsKmap(required))
            {
                (Interval? page, string pageText) = PageThroughCall(required, invocation);
                var kmap = new KmapEvent(invocation, key, page, pageText, KnownSymbols.IsSame(required.TargetMethod, _symbols.KmapAtomic), new Via(required, callee));
                foreach (FlowClient rule in _rules)
                {
                    rule.OnKmap(_report!, kmap, current);
                }
            }

            if (contract.EndedBy is { } end && key >= 0)
            {
                AccessRange range = TranslatedRange(end, invocation);
                if (Reporting)
                {
                    var via = new Via(end, callee);
                    foreach (FlowClient rule in _rules)
                    {
                        rule.OnEnd(_report!, invocation, key, range, current, via);
                    }
                }

                current = current.Map(c => Ended(c, key, range, invocation));
            }

            if (contract.LeftOpenBy is { } begin && key >= 0 && current is not null)
            {
                var record = new AccessRecord(invocation, SiteId(invocation), key, TranslatedRange(begin, invocation), false, ImmutableArray<int>.Empty, false);
                current = current.Map(c => c.Open.Any(a => a.SiteId == record.SiteId) ? c : c.WithOpen(c.Open.Add(record)).WithEnded(c.Ended.Remove(key)));
            }

            if (contract.PutBy is not null && current is not null)
            {
                ImmutableArray<int> holders = HoldersOf(argument.Value);
                int variable = ReleaseId(argument.Value);
                current = current.Map(c => PutReference(c, holders.Contains(Pending) ? ImmutableArray<int>.Empty : holders, variable, invocation));
            }
        }

        if (current is not null && !summary.Cases.IsEmpty)
        {
            current = Cases(invocation, summary, current);
        }

        if (current is not null && ReturnedArgument(invocation) is { } returned && UsageOf(invocation) == Usage.Escape)
        {
            // The call returns its argument: handing the result away hands the argument away.
            ImmutableArray<int> holders = HoldersOfExpression(returned);
            int key = KeyId(returned);
            current = current.Map(c => key >= 0 ? EscapeKey(holders.IsEmpty ? c : MarkEscaped(c, holders), key, opens: false) : holders.IsEmpty ? c : MarkEscaped(c, holders));
        }

        if (current is not null && summary.ReturnedReference is { } taken)
        {
            var record = new ResourceRecord(invocation, SiteId(invocation), ResourceKind.Reference, ImmutableArray.Create(Pending), false, KnownSymbols.IsSame(taken.TargetMethod, _symbols.Export), -1, null);
            current = ResultUsage(invocation, current.Map(c => AddResource(c, record)));
        }

        if (current is not null && summary.ReturnedScope is { } scope && invocation.Arguments.FirstOrDefault(a => a.Parameter?.Ordinal == summary.ScopeParameter) is { } scopeArgument)
        {
            int key = KeyId(scopeArgument.Value);
            var record = new AccessRecord(invocation, SiteId(invocation), key, TranslatedRange(scope, invocation), true, ImmutableArray.Create(Pending), false);
            current = ResultUsage(invocation, current.Map(c => c.Open.Any(a => a.SiteId == record.SiteId && a.Holders.SequenceEqual(record.Holders)) ? c : c.WithOpen(c.Open.Add(record)).WithEnded(key >= 0 ? c.Ended.Remove(key) : c.Ended)));
        }

        return current;
    }

    /// <summary>
    /// A call of a callee whose ways out leave different things: each path goes on once per way out, with what that way
    /// leaves (the access it begun, the reference it put) and the value it returns, so that `if (ret != 0)` after the
    /// call follows the way out that returned it.
    /// </summary>
    private FlowState? Cases(IInvocationOperation invocation, MethodSummary summary, FlowState state)
    {
        if (state.IsTop)
        {
            return state;
        }

        int result = _paths.Keys.ResultKey(invocation);
        var configs = new List<Config>();
        foreach (Config config in state.Configs)
        {
            foreach (ExitCase exit in summary.Cases)
            {
                Config next = config;
                foreach (IArgumentOperation argument in invocation.Arguments)
                {
                    int ordinal = argument.Parameter?.Ordinal ?? -1;
                    if (ordinal < 0 || ordinal >= exit.LeftOpenBy.Length || !summary.ContractOf(ordinal).IsConditional)
                    {
                        continue;
                    }

                    int key = KeyId(argument.Value);
                    if (exit.LeftOpenBy[ordinal] is { } begin && key >= 0)
                    {
                        var record = new AccessRecord(invocation, SiteId(invocation), key, TranslatedRange(begin, invocation), false, ImmutableArray<int>.Empty, false);
                        next = next.Open.Any(a => a.SiteId == record.SiteId) ? next : next.WithOpen(next.Open.Add(record)).WithEnded(next.Ended.Remove(key));
                    }

                    ImmutableArray<int> holders = HoldersOf(argument.Value);
                    if (exit.PutBy[ordinal] is not null)
                    {
                        next = PutReference(next, holders.Contains(Pending) ? ImmutableArray<int>.Empty : holders, ReleaseId(argument.Value), invocation);
                    }

                    if (exit.Kept[ordinal] && !holders.IsEmpty && !holders.Contains(Pending))
                    {
                        // Kept on this way out: the reference is the callee's now.
                        next = MarkEscaped(next, holders);
                    }
                }

                configs.Add(_paths.Set(next, result, exit.Result));
            }
        }

        return FlowState.Of(configs);
    }

    /// <summary>The page a callee's kmap maps, seen from the call: a constant, or the argument given for the parameter it is.</summary>
    private (Interval? Page, string Text) PageThroughCall(IInvocationOperation kmap, IInvocationOperation call)
    {
        if (kmap.Arguments.Length == 0)
        {
            return (null, "?");
        }

        IOperation page = kmap.Arguments[0].Value;
        if (page.ConstantValue.HasValue)
        {
            Interval? constant = _values.Evaluate(page);
            return (constant, constant?.ToString() ?? page.Syntax.ToString());
        }

        if (BodyFacts.Unwrap(page) is IParameterReferenceOperation parameter &&
            call.Arguments.FirstOrDefault(a => a.Parameter is not null && a.Parameter.Ordinal == parameter.Parameter.Ordinal) is { } argument)
        {
            Interval? value = _values.Evaluate(argument.Value);
            return (value, value is { IsConstant: true } known ? known.ToString() : argument.Value.Syntax.ToString());
        }

        return (null, page.Syntax.ToString());
    }

    private bool IsKmap(IInvocationOperation call) => KnownSymbols.IsSame(call.TargetMethod, _symbols.Kmap) || KnownSymbols.IsSame(call.TargetMethod, _symbols.KmapAtomic);

    /// <summary>
    /// The range of a begin or end in a callee, seen from the call: constants as they are, expressions over the callee's
    /// parameters as the same expressions over the call's arguments (so that they compare with the caller's ranges).
    /// </summary>
    private AccessRange TranslatedRange(IInvocationOperation calleeCall, IInvocationOperation call)
    {
        IOperation? ArgumentFor(IParameterSymbol parameter) =>
            call.Arguments.FirstOrDefault(a => a.Parameter is not null && a.Parameter.Ordinal == parameter.Ordinal && SymbolEqualityComparer.Default.Equals(a.Parameter.ContainingSymbol.OriginalDefinition, parameter.ContainingSymbol.OriginalDefinition))?.Value;

        Operand Translate(int index)
        {
            if (index >= calleeCall.Arguments.Length)
            {
                return new Operand(null, -1, null);
            }

            IOperation argument = calleeCall.Arguments[index].Value;
            if (argument.ConstantValue.HasValue)
            {
                return new Operand(_values.Evaluate(argument), -1, argument.Syntax.ToString());
            }

            int key = _paths.Keys.KeyOf(argument, ArgumentFor);
            return new Operand(null, key, key >= 0 ? _paths.Keys.Display(key) : argument.Syntax.ToString());
        }

        Operand direction = Translate(2);
        string directionName = direction.Value is { IsConstant: true } known
            ? _symbols.DmaDataDirection.GetMembers().OfType<IFieldSymbol>().FirstOrDefault(f => f.HasConstantValue && BodyFacts.TryLong(f.ConstantValue, out long v) && v == known.Low)?.Name ?? known.Low.ToString(System.Globalization.CultureInfo.InvariantCulture)
            : direction.Text ?? "unknown direction";
        return new AccessRange(Translate(0), Translate(1), direction, directionName);
    }

    private FlowState? Assign(IOperation target, IOperation value, FlowState state)
    {
        IOperation unwrapped = BodyFacts.Unwrap(target);
        FlowState? result = Written(unwrapped, state);
        if (result is null)
        {
            return null;
        }

        if (unwrapped is ILocalReferenceOperation local)
        {
            result = Store(LocalHolder(local.Local), value, result, _facts.IsCaptured(local.Local));
        }

        if (_paths.Any && result is not null)
        {
            int key = _paths.Keys.KeyOf(unwrapped);
            result = key < 0 ? result : result.Map(c => _paths.Assign(c, key, value));
        }

        return result;
    }

    /// <summary>
    /// <c>p++</c>: a counter known to be a small constant on a path is known to be the next one (so a loop of a few
    /// constant iterations is followed iteration by iteration); any other value is no longer known. The bound keeps
    /// loops over larger ranges from being unrolled.
    /// </summary>
    private FlowState? Increment(IIncrementOrDecrementOperation increment, FlowState state)
    {
        const long MaxUnrolled = 8;
        ISymbol? symbol = WrittenSymbol(increment.Target);
        if (symbol is null)
        {
            return state;
        }

        int key = _paths.Any ? _paths.Keys.KeyOf(BodyFacts.Unwrap(increment.Target)) : -1;
        long step = increment.Kind == OperationKind.Increment ? 1 : -1;
        return state.Map(c =>
        {
            Fact before = key < 0 ? Fact.Unknown : _paths.FactOf(c, increment.Target);
            Config next = Written(c, symbol);
            return before.Constant is { } value && Math.Abs(value) < MaxUnrolled ? _paths.Set(next, key, Fact.Value(value + step)) : next;
        });
    }

    /// <summary><c>var (lo, hi) = (a, b);</c>: each variable is given its element; other deconstructions are writes of unknown values.</summary>
    private FlowState? Deconstruction(IDeconstructionAssignmentOperation deconstruction, FlowState state)
    {
        FlowState? current = state;
        foreach ((IOperation target, IOperation? value) in BodyFacts.Deconstruct(deconstruction))
        {
            if (current is null)
            {
                return null;
            }

            current = value is null ? Written(target, current) : Assign(target, value, current);
        }

        return current;
    }

    /// <summary>A flow capture is given a value: it holds what the value denotes, and has the value's fact.</summary>
    private FlowState? Capture(IFlowCaptureOperation capture, FlowState state)
    {
        FlowState? result = Store(CaptureHolder(capture.Id), capture.Value, state, captured: false);
        if (!_paths.Any || result is null)
        {
            return result;
        }

        if (_paths.Keys.Dependents(capture.Id).Count == 0)
        {
            return result;
        }

        int key = _paths.Keys.CaptureKey(capture.Id);
        return result.Map(c => _paths.Assign(_paths.Forget(c, capture.Id), key, capture.Value));
    }

    /// <summary>A local or flow capture is given a value: it stops holding what it held and holds what the value denotes.</summary>
    private FlowState? Store(int holder, IOperation value, FlowState state, bool captured)
    {
        ImmutableArray<int> sources = HoldersOf(value);
        string? name = HolderName(holder);

        // A call's result holds only what that call took: `int fd = DmaBuffer.Export(e, n).Fd();` does not make fd a
        // holder of the exported reference, which is still pending when Fd returns.
        IOperation? call = sources.Length == 1 && sources[0] == Pending ? Unwrapped(value) : null;
        return state.Map(c =>
        {
            Config next = c;
            if (Holds(c, holder))
            {
                next = next.WithRecords(
                    a => a.Holders.Contains(holder) ? a.With(holders: a.Holders.Remove(holder)) : a,
                    m => m.Holders.Contains(holder) ? m.With(holders: m.Holders.Remove(holder)) : m,
                    r => r.Holders.Contains(holder) ? r.With(holders: r.Holders.Remove(holder)) : r);
            }

            if (next.Released.ContainsKey(holder))
            {
                // A new value: whatever the local held before was put, this one is not.
                next = next.WithReleased(next.Released.Remove(holder));
            }

            if (!sources.IsEmpty)
            {
                next = next.WithRecords(
                    a => PathRecords.SharesHolder(a.Holders, sources) && (call is null || ReferenceEquals(a.Site, call)) ? a.With(holders: Add(a.Holders, holder), escaped: a.Escaped || captured) : a,
                    m => PathRecords.SharesHolder(m.Holders, sources) && (call is null || ReferenceEquals(m.Site, call)) ? m.With(holders: Add(m.Holders, holder), escaped: m.Escaped || captured) : m,
                    r => PathRecords.SharesHolder(r.Holders, sources) && (call is null || ReferenceEquals(r.Site, call)) ? r.With(holders: Add(r.Holders, holder), escaped: r.Escaped || captured, name: name) : r);
            }

            return next;
        });
    }

    private static ImmutableArray<int> Add(ImmutableArray<int> holders, int holder) =>
        holders.Contains(holder) ? holders : holders.Add(holder).Sort();

    private FlowState? Reference(IOperation reference, FlowState state)
    {
        bool interesting = reference is IInstanceReferenceOperation ||
            SymbolEqualityComparer.Default.Equals(reference.Type, _symbols.DmaBuffer) ||
            SymbolEqualityComparer.Default.Equals(reference.Type, _symbols.DmaBufPage) ||
            SymbolEqualityComparer.Default.Equals(reference.Type, _symbols.CpuAccessScope) ||
            SymbolEqualityComparer.Default.Equals(reference.Type, _symbols.ScatterGatherTable) ||
            SymbolEqualityComparer.Default.Equals(reference.Type, _symbols.DmaBufAttachment) ||
            HoldsSomething(reference, state);
        if (!interesting || UsageOf(reference) != Usage.Escape)
        {
            return state;
        }

        FlowState? result = state;
        if (SymbolEqualityComparer.Default.Equals(reference.Type, _symbols.DmaBufAttachment) && StableValue(reference) is IInvocationOperation { Instance: { } attachedTo } attach &&
            KnownSymbols.IsSame(attach.TargetMethod, _symbols.Attach))
        {
            // An attachment handed away carries its buffer (attachment.Buffer): the reference goes with it.
            result = AttachmentEscapes(attachedTo, result);
        }

        ImmutableArray<int> holders = HoldersOf(reference);
        if (!holders.IsEmpty && result is not null)
        {
            result = result.Map(c => MarkEscaped(c, holders));
        }

        bool opens = HandedToOpenMethod(reference);
        if (reference is IInstanceReferenceOperation)
        {
            return _anyThisKey ? result?.Map(c => EscapeThisRooted(c, opens)) : result;
        }

        if (SymbolEqualityComparer.Default.Equals(reference.Type, _symbols.DmaBuffer))
        {
            int key = KeyId(reference);
            if (key >= 0)
            {
                result = result?.Map(c => EscapeKey(c, key, opens));
            }
        }

        return result;
    }

    private FlowState? AttachmentEscapes(IOperation buffer, FlowState? state)
    {
        ImmutableArray<int> owners = HoldersOfExpression(buffer);
        bool Owned(ResourceRecord r) => r.Kind is ResourceKind.Reference or ResourceKind.CallerReference && PathRecords.SharesHolder(r.Holders, owners);
        return owners.IsEmpty || state is null ? state : state.Map(c => c.Resources.Any(Owned)
            ? c.WithResources(c.Resources.Select(r => Owned(r) ? r.With(escaped: true, sole: false) : r).ToImmutableArray())
            : c);
    }

    /// <summary>
    /// Whether the reference reads a local or flow capture that holds a record on some path: a buffer kept in a local of
    /// another type (<c>object o = DmaBuffer.Get(fd);</c>) escapes through it like through a <c>DmaBuffer</c> local.
    /// </summary>
    private bool HoldsSomething(IOperation reference, FlowState state)
    {
        int holder;
        if (reference is ILocalReferenceOperation local)
        {
            if (!_localHolders.TryGetValue(local.Local, out holder))
            {
                return false;
            }
        }
        else if (reference is not IFlowCaptureReferenceOperation capture || !_captureHolders.TryGetValue(capture.Id, out holder))
        {
            return false;
        }

        foreach (Config config in state.Configs)
        {
            if (Holds(config, holder))
            {
                return true;
            }
        }

        return false;
    }

    private FlowState? ResultUsage(IInvocationOperation invocation, FlowState? state)
    {
        if (state is null || UsageOf(invocation) != Usage.Escape)
        {
            return state;
        }

        ImmutableArray<int> pending = ImmutableArray.Create(Pending);
        return state.Map(c => MarkEscaped(c, pending));
    }

    private static Config MarkEscaped(Config config, ImmutableArray<int> holders) =>
        config.WithRecords(
            a => PathRecords.SharesHolder(a.Holders, holders) ? a.With(escaped: true) : a,
            m => PathRecords.SharesHolder(m.Holders, holders) ? m.With(escaped: true) : m,
            r => PathRecords.SharesHolder(r.Holders, holders) ? r.With(escaped: true, sole: false) : r);

    /// <summary>
    /// A buffer handed to code the body cannot see: what is open on it is no longer called leaked (that code may end
    /// it). Only a method marked [LeavesCpuAccessOpen] is taken to begin more on it; any other method that did would be
    /// reported itself (DMA0001), so the ranges begun here still judge later ends and kmaps.
    /// </summary>
    private static Config EscapeKey(Config config, int key, bool opens) =>
        new(
            config.Open.Select(a => a.Key == key ? a.With(escaped: true) : a).ToImmutableArray(),
            config.Held,
            config.Ended,
            opens ? config.Unknown.SetItem(key, true) : config.Unknown,
            config.Facts,
            config.Resources,
            config.Released);

    private Config EscapeThisRooted(Config config, bool opens)
    {
        Config next = config;
        for (int key = 0; key < _keys.Count; key++)
        {
            if (_keys[key].IsThisRooted)
            {
                next = EscapeKey(next, key, opens);
            }
        }

        return next;
    }

    private bool HandedToOpenMethod(IOperation reference)
    {
        IOperation? parent = reference.Parent;
        while (parent is IConversionOperation)
        {
            parent = parent.Parent;
        }

        return parent is IArgumentOperation { Parent: IInvocationOperation invocation } && LeavesOpen(invocation.TargetMethod);
    }

    private bool LeavesOpen(IMethodSymbol method) =>
        method.OriginalDefinition.GetAttributes().Any(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, _symbols.LeavesCpuAccessOpenAttribute));

    private static Config ClearPending(Config config)
    {
        if (!Holds(config, Pending))
        {
            return config;
        }

        return config.WithRecords(
            a => a.Holders.Contains(Pending) ? a.With(holders: a.Holders.Remove(Pending)) : a,
            m => m.Holders.Contains(Pending) ? m.With(holders: m.Holders.Remove(Pending)) : m,
            r => r.Holders.Contains(Pending) ? r.With(holders: r.Holders.Remove(Pending)) : r);
    }

    /// <summary>
    /// Whether a call may keep what it is given as <paramref name="parameter"/>: not the runtime's sharing calls nor the
    /// <see cref="NonRetainingMethods"/>; a method of the compilation as its contract says (Unknown keeps it).
    /// </summary>
    private bool MayKeep(IInvocationOperation call, IParameterSymbol? parameter)
    {
        if (parameter is null)
        {
            return true;
        }

        if (call.TargetMethod.MethodKind is not MethodKind.DelegateInvoke && _context.Summaries.IsSummarizable(call.TargetMethod) &&
            !call.TargetMethod.IsVirtual && !call.TargetMethod.IsAbstract && call.TargetMethod.ContainingType.TypeKind != TypeKind.Interface)
        {
            return SummaryOf(call) is not { } summary || summary.ContractOf(parameter.Ordinal).IsUnknown;
        }

        return _context.Summaries.Escapes.MayKeep(call.TargetMethod, parameter, _context.CancellationToken);
    }

    /// <summary>How the parent of an expression uses its value: as a receiver, in a null test, stored in a local (handled), or handed away.</summary>
    private Usage UsageOf(IOperation operation)
    {
        IOperation current = operation;
        IOperation? parent = operation.Parent;
        while (parent is IConversionOperation)
        {
            current = parent;
            parent = parent.Parent;
        }

        switch (parent)
        {
            case null:
                // Returned: handed to the caller; a parameter returned as it came is the caller's own (summaries).
                return ReferenceEquals(current, _branchRoot) && _branchEscapes && !(_context.Summarizing && operation is IParameterReferenceOperation) ? Usage.Escape : Usage.None;
            case IInvocationOperation invocation when ReferenceEquals(invocation.Instance, current):
                return Usage.None;
            case IMemberReferenceOperation member when ReferenceEquals(member.Instance, current):
                return Usage.None;
            case IArgumentOperation { Parent: IInvocationOperation call } argument:
                return MayKeep(call, argument.Parameter) ? Usage.Escape : Usage.None;
            case IArgumentOperation { Parent: IObjectCreationOperation { Constructor: { } constructor } } argument:
                return _context.Summaries.Escapes.MayKeep(constructor, argument.Parameter, _context.CancellationToken) ? Usage.Escape : Usage.None;
            case IArrayInitializerOperation { Parent: IArrayCreationOperation { IsImplicit: true, Parent: IArgumentOperation { ArgumentKind: ArgumentKind.ParamArray, Parent: IInvocationOperation call } paramArray } }:
                // An element of a params array: the call receives it as that parameter.
                return MayKeep(call, paramArray.Parameter) ? Usage.Escape : Usage.None;
            case IInterpolationOperation:
                return Usage.None;
            case ISimpleAssignmentOperation assignment when ReferenceEquals(assignment.Target, current):
                return Usage.None;
            case ISimpleAssignmentOperation assignment when BodyFacts.Unwrap(assignment.Target) is ILocalReferenceOperation:
                return Usage.HandledByParent;
            case IFlowCaptureOperation:
                return Usage.HandledByParent;
            case ITupleOperation { Parent: IDeconstructionAssignmentOperation deconstruction } tuple when ReferenceEquals(deconstruction.Value, tuple):
                // `var (lo, hi) = (buf.KmapAtomic(0), buf.KmapAtomic(1));`: each element goes to its variable.
                return Usage.HandledByParent;
            case IIsPatternOperation { Pattern: IDeclarationPatternOperation { DeclaredSymbol: ILocalSymbol } or IRecursivePatternOperation { DeclaredSymbol: ILocalSymbol } }:
                // `o is DmaBuffer d`, `page is { } p`: a copy into the declared local.
                return Usage.HandledByParent;
            case IIsNullOperation:
            case IBinaryOperation:
            case IExpressionStatementOperation:
            case IIsTypeOperation:
            case IIsPatternOperation:
                return Usage.None;
            default:
                return Usage.Escape;
        }
    }

    // ---- Keys, holders, values ------------------------------------------------------------------------------------

    private int KeyId(IOperation? receiver)
    {
        BufferKey? key = _facts.KeyOf(receiver);
        if (key is null)
        {
            return -1;
        }

        if (!_keyIds.TryGetValue(key, out int id))
        {
            id = _keys.Count;
            _keys.Add(key);
            _keyIds.Add(key, id);
            _anyThisKey |= key.IsThisRooted;
        }

        return id;
    }

    private int SiteId(IOperation site)
    {
        if (!_siteIds.TryGetValue(site, out int id))
        {
            id = _siteIds.Count;
            _siteIds.Add(site, id);
        }

        return id;
    }

    private int LocalHolder(ISymbol local)
    {
        if (!_localHolders.TryGetValue(local, out int id))
        {
            id = _localHolders.Count + _captureHolders.Count;
            _localHolders.Add(local, id);
            _holderNames.Add(id, local.Name);
        }

        return id;
    }

    private int CaptureHolder(CaptureId capture)
    {
        if (!_captureHolders.TryGetValue(capture, out int id))
        {
            id = _localHolders.Count + _captureHolders.Count;
            _captureHolders.Add(capture, id);
        }

        return id;
    }

    /// <summary>The holders an expression denotes: a local, a flow capture, or the result of a mapping call being visited.</summary>
    private ImmutableArray<int> HoldersOf(IOperation value) =>
        Unwrapped(value) switch
        {
            ILocalReferenceOperation local => ImmutableArray.Create(LocalHolder(local.Local)),
            IFlowCaptureReferenceOperation capture => ImmutableArray.Create(CaptureHolder(capture.Id)),
            IParameterReferenceOperation parameter when parameter.Parameter.RefKind == RefKind.None => ImmutableArray.Create(LocalHolder(parameter.Parameter)),
            IInvocationOperation { TargetMethod.Name: "GetValueOrDefault", Instance: { } nullable } when IsNullableValue(nullable) => HoldersOf(nullable),
            IInvocationOperation call when ReturnedArgument(call) is { } argument => HoldersOf(argument),
            IInvocationOperation => ImmutableArray.Create(Pending),
            IPropertyReferenceOperation { Property.Name: "Value", Instance: { } nullable } when IsNullableValue(nullable) => HoldersOf(nullable),
            _ => ImmutableArray<int>.Empty,
        };

    /// <summary>The argument a call returns as it came (its callee's summary says so), or null.</summary>
    private IOperation? ReturnedArgument(IInvocationOperation call)
    {
        if (call.TargetMethod.MethodKind == MethodKind.DelegateInvoke || !_context.Summaries.IsSummarizable(call.TargetMethod) || SummaryOf(call) is not { ReturnedParameter: >= 0 } summary)
        {
            return null;
        }

        return call.Arguments.FirstOrDefault(a => a.Parameter?.Ordinal == summary.ReturnedParameter)?.Value;
    }

    /// <summary>A <c>Nullable&lt;T&gt;</c> value: its <c>Value</c> denotes what the nullable holds.</summary>
    private static bool IsNullableValue(IOperation operation) =>
        operation.Type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T };

    /// <summary>The value without its conversions and parentheses, the one explicit conversion included.</summary>
    private static IOperation Unwrapped(IOperation value)
    {
        IOperation unwrapped = BodyFacts.Unwrap(value);
        return unwrapped is IConversionOperation explicitConversion ? BodyFacts.Unwrap(explicitConversion.Operand) : unwrapped;
    }

    private AccessRange RangeOf(IInvocationOperation invocation)
    {
        Operand start = OperandOf(invocation.Arguments.Length > 0 ? invocation.Arguments[0].Value : null);
        Operand length = OperandOf(invocation.Arguments.Length > 1 ? invocation.Arguments[1].Value : null);
        Operand direction = OperandOf(invocation.Arguments.Length > 2 ? invocation.Arguments[2].Value : null);
        string directionName = "unknown direction";
        if (direction.Value is { IsConstant: true } known)
        {
            long value = known.Low;
            directionName = _symbols.DmaDataDirection.GetMembers().OfType<IFieldSymbol>()
                .FirstOrDefault(f => f.HasConstantValue && BodyFacts.TryLong(f.ConstantValue, out long v) && v == value)?.Name ?? value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        else if (invocation.Arguments.Length > 2)
        {
            directionName = invocation.Arguments[2].Value.Syntax.ToString();
        }

        return new AccessRange(start, length, direction, directionName);
    }

    /// <summary>An argument as a value: its interval when it folds, and its value key, which compares it with other arguments.</summary>
    private Operand OperandOf(IOperation? argument)
    {
        if (argument is null)
        {
            return new Operand(null, -1, null);
        }

        Interval? value = _values.Evaluate(argument);
        int key = value is { IsConstant: true } ? -1 : _paths.Keys.KeyOf(argument);
        return new Operand(value, key, argument.Syntax.ToString());
    }

    private static string PageText(IOperation? argument, Interval? page) =>
        page is { IsConstant: true } constant ? constant.ToString() : argument?.Syntax.ToString() ?? "?";

    // ---- Describing exits ------------------------------------------------------------------------------------

    private ExitPath DescribeThrow(BasicBlock block)
    {
        SyntaxNode? node = block.BranchValue?.Syntax;
        SyntaxNode? statement = node?.AncestorsAndSelf().FirstOrDefault(n => n is ThrowStatementSyntax or ThrowExpressionSyntax);
        if (statement is null && block.Operations.Length > 0)
        {
            statement = block.Operations[block.Operations.Length - 1].Syntax;
        }

        if (statement is null)
        {
            Location end = BodyEnd();
            return new ExitPath(end, "rethrows at line " + FlowReport.Line(end), isThrow: true);
        }

        Location location = statement.GetLocation();
        return new ExitPath(location, "throws at line " + FlowReport.Line(location), isThrow: true);
    }

    private ExitPath DescribeExit(BasicBlock block)
    {
        if (block.ConditionKind == ControlFlowConditionKind.None && block.BranchValue is not null)
        {
            SyntaxNode node = block.BranchValue.Syntax;
            SyntaxNode statement = node.AncestorsAndSelf().FirstOrDefault(n => n is ReturnStatementSyntax) ?? node;
            Location location = statement.GetLocation();
            return new ExitPath(location, "returns at line " + FlowReport.Line(location), isThrow: false, block.BranchValue);
        }

        (SyntaxNode? anchor, bool strict) = AnchorOf(block);
        if (anchor is not null)
        {
            foreach (ReturnStatementSyntax candidate in ReturnStatements())
            {
                if (candidate.SpanStart >= anchor.Span.End && (!strict || ReturnCovers(candidate, anchor)))
                {
                    Location location = candidate.GetLocation();
                    return new ExitPath(location, "returns at line " + FlowReport.Line(location), isThrow: false);
                }
            }
        }

        Location end = BodyEnd();
        return new ExitPath(end, "falls off the end at line " + FlowReport.Line(end), isThrow: false);
    }

    private (SyntaxNode? Anchor, bool Strict) AnchorOf(BasicBlock block)
    {
        if (block.BranchValue is not null)
        {
            return (block.BranchValue.Syntax, true);
        }

        if (block.Operations.Length > 0)
        {
            return (block.Operations[block.Operations.Length - 1].Syntax, true);
        }

        // An empty block (a `return;` on its own, in a catch or after a join): the code laid out just before it.
        for (int ordinal = block.Ordinal - 1; ordinal > 0; ordinal--)
        {
            BasicBlock previous = _cfg.Blocks[ordinal];
            if (previous.BranchValue is not null || previous.Operations.Length > 0)
            {
                return ((previous.BranchValue ?? previous.Operations[previous.Operations.Length - 1]).Syntax, false);
            }
        }

        return (null, false);
    }

    private static bool ReturnCovers(ReturnStatementSyntax candidate, SyntaxNode anchor)
    {
        SyntaxNode? parent = candidate.Parent;
        if (parent is BlockSyntax or SwitchSectionSyntax)
        {
            return parent.Span.Contains(anchor.Span);
        }

        return parent is IfStatementSyntax or ElseClauseSyntax or WhileStatementSyntax or ForStatementSyntax or ForEachStatementSyntax or DoStatementSyntax
            && (parent is ElseClauseSyntax ? parent.Parent! : parent).Span.Contains(anchor.Span);
    }

    private IEnumerable<ReturnStatementSyntax> ReturnStatements()
    {
        SyntaxNode root = _cfg.OriginalOperation.Syntax;
        return root.DescendantNodes(n => n == root || !(n is AnonymousFunctionExpressionSyntax or LocalFunctionStatementSyntax))
            .OfType<ReturnStatementSyntax>()
            .Where(r => r.Expression is null)
            .OrderBy(r => r.SpanStart);
    }

    private Location BodyEnd()
    {
        SyntaxNode root = _cfg.OriginalOperation.Syntax;
        BlockSyntax? body = root as BlockSyntax ?? root switch
        {
            BaseMethodDeclarationSyntax method => method.Body,
            AccessorDeclarationSyntax accessor => accessor.Body,
            LocalFunctionStatementSyntax local => local.Body,
            AnonymousFunctionExpressionSyntax lambda => lambda.Block,
            _ => null,
        };

        if (body is not null)
        {
            return body.CloseBraceToken.GetLocation();
        }

        SyntaxToken last = root.GetLastToken();
        return last.GetLocation();
    }
}
