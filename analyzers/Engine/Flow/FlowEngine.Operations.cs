// The transfer of one operation: children first, then the operation itself, dispatched to the transfer of its
// kind (CPU access, mappings, vmaps, sharing, calls, holders); the rules see each operation before it applies.
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

        if (_collecting && _symbols.MayFail(method))
        {
            Fail(state);
        }

        bool scope = _symbols.IsScope(method);
        if (scope || _symbols.IsBegin(method))
        {
            return Begin(invocation, scope, state);
        }

        if (_symbols.IsEnd(method))
        {
            return End(invocation, state);
        }

        if (TryVmapOperation(invocation, state, out FlowState? vmap))
        {
            return vmap;
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
}
