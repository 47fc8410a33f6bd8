// The walk over the control flow graph: the worklist of blocks, where a block's state goes (branches, the
// finally regions on every way out, explicit throws to the handlers that catch them, a failed runtime call to the
// handlers of its exception), the ways out of the body, and the bound that stops the walk. It knows nothing of
// buffers: operations and conditions go to the transfer files, ways out to the rules.
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

internal sealed partial class FlowEngine
{
    /// <summary>Where the successors of a processed block go: the main worklist, or a finally region being run.</summary>
    private sealed class Sink
    {
        private readonly FlowEngine _engine;
        private readonly ControlFlowRegion? _region;
        private readonly Dictionary<int, FlowState?>? _local;
        private readonly BlockWorklist? _work;

        public Sink(FlowEngine engine, ControlFlowRegion? region, bool run = false)
        {
            _engine = engine;
            _region = region;
            if (run)
            {
                _local = new Dictionary<int, FlowState?>();
                _work = new BlockWorklist(engine._cfg.Blocks.Length);
            }
        }

        public FlowState? FinallyOut { get; set; }

        public void Deliver(int ordinal, FlowState? state)
        {
            if (state is null || !_engine._collecting && _local is null)
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

            if (!_engine._collecting)
            {
                return;
            }

            if (_engine._visits[ordinal] > 0 && _engine._final)
            {
                // A one-pass walk reached a block it has already taken: its state was not final. Give up (silent)
                // rather than report from it; IsForwardOnly is meant to make this impossible.
                _engine._gaveUp = true;
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
            while (!_work.IsEmpty)
            {
                int ordinal = _work.TakeLowest();
                visits.TryGetValue(ordinal, out int count);
                if (count >= MaxVisitsPerBlock)
                {
                    _engine._gaveUp = true;
                    return null;
                }

                visits[ordinal] = count + 1;
                FlowState? state = _local[ordinal];
                if (_engine._collecting)
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
}
