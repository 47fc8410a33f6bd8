// The transfer of the sharing steps (DMA0009–DMA0011): references taken by Export and Get and given back by Put,
// tables mapped from an attachment and unmapped or dropped at Detach, and which variables a Put empties.
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
}
