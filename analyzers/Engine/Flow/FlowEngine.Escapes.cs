// Escapes: whether an expression's value is handed to code that may keep it (returned, stored, captured, passed to
// a method that may keep it), and what handing a buffer, page, scope, table, vmap or attachment away does to the state.
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
    private FlowState? Reference(IOperation reference, FlowState state)
    {
        bool interesting = reference is IInstanceReferenceOperation ||
            SymbolEqualityComparer.Default.Equals(reference.Type, _symbols.DmaBuffer) ||
            SymbolEqualityComparer.Default.Equals(reference.Type, _symbols.DmaBufPage) ||
            SymbolEqualityComparer.Default.Equals(reference.Type, _symbols.CpuAccessScope) ||
            SymbolEqualityComparer.Default.Equals(reference.Type, _symbols.ScatterGatherTable) ||
            SymbolEqualityComparer.Default.Equals(reference.Type, _symbols.DmaBufAttachment) ||
            SymbolEqualityComparer.Default.Equals(reference.Type, _symbols.DmaBufVmap) ||
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
}
