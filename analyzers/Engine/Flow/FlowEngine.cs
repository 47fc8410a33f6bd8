// The engine's state and entry points: the fields every part shares, the construction of a run, the questions
// the rules ask of it, and Run, which walks the graph to a fixed point and then once more with the clients (or,
// for a graph without loops, once, with the clients as it goes).
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
/// variables, the references and tables taken, what is known of tested values), merges at joins, iterates loops to a
/// fixed point (with a bound), and then makes one final pass over the fixed point in which the clients (the rules, or
/// a summary's collector) see each event. The class is split by concern: the walk over the graph
/// (FlowEngine.Walk.cs, FlowEngine.Exits.cs), the transfer of operations and conditions (Operations, Conditions),
/// one transfer file per resource kind (CpuAccess, Mappings, Vmaps, Sharing), calls into the compilation (Calls), and the
/// holders and escapes the transfers share (Holders, Escapes). What each part may touch is said at its top.
/// </summary>
internal sealed partial class FlowEngine
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
    private readonly BlockWorklist _worklist;
    private int[] _visits = Array.Empty<int>();
    private bool _final;
    private bool _collecting = true;
    private readonly Action<Diagnostic>? _reportOut;
    private List<Diagnostic>? _held;
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
        _reportOut = report;
        _rules = rules.IsDefault ? ImmutableArray<FlowClient>.Empty : rules;
        _report = !_rules.IsEmpty && report is not null ? new FlowReport(this, context, Hold) : null;
        _in = new FlowState?[cfg.Blocks.Length];
        _finallyIn = new FlowState?[cfg.Blocks.Length];
        _worklist = new BlockWorklist(cfg.Blocks.Length);
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

        // Without loops, taking blocks in order reaches each one once, after all its predecessors: its state is final
        // when it is taken, so the clients see the walk as it goes (what they report is held until the walk is known
        // not to have given up), and only the finally regions, whose entry states are complete at the end, are walked again.
        bool onePass = IsForwardOnly(_cfg);
        _final = onePass;
        _held = onePass ? new List<Diagnostic>() : null;
        _visits = new int[_cfg.Blocks.Length];
        var mainSink = new Sink(this, null);
        while (!_worklist.IsEmpty)
        {
            _context.CancellationToken.ThrowIfCancellationRequested();
            int ordinal = _worklist.TakeLowest();
            if (++_visits[ordinal] > (onePass ? 1 : MaxVisitsPerBlock))
            {
                _gaveUp = true;
                break;
            }

            ProcessBlock(_cfg.Blocks[ordinal], _in[ordinal], mainSink);
        }

        if (_gaveUp || _in.Any(s => s is { IsTop: true }) || _finallyIn.Any(s => s is { IsTop: true }))
        {
            _held = null;
            return new FlowResult(true, 0, 0);
        }

        _final = true;
        _collecting = false;
        foreach (BasicBlock block in _cfg.Blocks)
        {
            _context.CancellationToken.ThrowIfCancellationRequested();
            if (!onePass && _in[block.Ordinal] is { } state)
            {
                ProcessBlock(block, state, mainSink);
            }

            if (_finallyIn[block.Ordinal] is { } finallyState)
            {
                ProcessBlock(block, finallyState, new Sink(this, block.EnclosingRegion));
            }
        }

        if (_held is { } held)
        {
            _held = null;
            foreach (Diagnostic diagnostic in held)
            {
                _reportOut!(diagnostic);
            }
        }

        return new FlowResult(false, _maxAtomic, _netAtomic);
    }

    /// <summary>Whether every branch of the graph goes to a later block (no loop, no jump back).</summary>
    private static bool IsForwardOnly(ControlFlowGraph cfg)
    {
        foreach (BasicBlock block in cfg.Blocks)
        {
            if (block.ConditionalSuccessor?.Destination is { } conditional && conditional.Ordinal <= block.Ordinal ||
                block.FallThroughSuccessor?.Destination is { } fallThrough && fallThrough.Ordinal <= block.Ordinal)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Reports now, or holds the diagnostic until the walk is known not to have given up.</summary>
    private void Hold(Diagnostic diagnostic)
    {
        if (_held is { } held)
        {
            held.Add(diagnostic);
        }
        else
        {
            _reportOut!(diagnostic);
        }
    }

    /// <summary>
    /// The state a summarized method starts in: each buffer parameter holds the reference its caller lends it, and each
    /// vmap parameter the caller's vmap, so that each way out tells whether the method put (vunmapped) it, kept it
    /// (handed it away) or left it to the caller.
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
                else if (parameter.RefKind == RefKind.None && SymbolEqualityComparer.Default.Equals(parameter.Type, _symbols.DmaBufVmap))
                {
                    records = records.Add(new ResourceRecord(_cfg.OriginalOperation, CallerReferenceSite(parameter.Ordinal), ResourceKind.Vmap, ImmutableArray.Create(LocalHolder(parameter)), false, false, -1, parameter.Name));
                }
            }
        }

        return records.IsEmpty ? FlowState.Initial : FlowState.Of(new[] { Config.Empty.WithResources(records) })!;
    }

    /// <summary>The site id of the caller's reference (or vmap) that parameter <paramref name="ordinal"/> brings (never a real site's).</summary>
    public static int CallerReferenceSite(int ordinal) => -(ordinal + 2);

    private bool Reporting => _final && !_quiet && !_rules.IsEmpty && _report is not null;
}
