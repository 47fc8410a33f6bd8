// The transfer of CPU access: BeginCpuAccess and CpuAccess scopes open an access, EndCpuAccess ends the one it
// matches (by range and direction, constants or value keys), and the ranges of the calls as operands. The
// whole-buffer forms (direction only) are accesses of their own kind: they pair only with each other.
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

        return value is not null && Unwrapped(value) is IInvocationOperation call && _symbols.IsScope(call.TargetMethod) ? call : null;
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

    /// <summary>
    /// The range a begin, end or scope call names: start, length and direction for the ranged forms, the direction alone
    /// for the whole-buffer forms (their one argument).
    /// </summary>
    private AccessRange RangeOf(IInvocationOperation invocation)
    {
        bool whole = invocation.Arguments.Length == 1;
        int at = whole ? 0 : 2;
        Operand direction = OperandOf(invocation.Arguments.Length > at ? invocation.Arguments[at].Value : null);
        string directionName = "unknown direction";
        if (direction.Value is { IsConstant: true } known)
        {
            directionName = DirectionName(known.Low);
        }
        else if (invocation.Arguments.Length > at)
        {
            directionName = invocation.Arguments[at].Value.Syntax.ToString();
        }

        if (whole)
        {
            return AccessRange.WholeBuffer(direction, directionName);
        }

        Operand start = OperandOf(invocation.Arguments.Length > 0 ? invocation.Arguments[0].Value : null);
        Operand length = OperandOf(invocation.Arguments.Length > 1 ? invocation.Arguments[1].Value : null);
        return new AccessRange(start, length, direction, directionName);
    }

    /// <summary>The name of the <c>DmaDataDirection</c> member with this value, or the value.</summary>
    private string DirectionName(long value) =>
        _symbols.DmaDataDirection.GetMembers().OfType<IFieldSymbol>()
            .FirstOrDefault(f => f.HasConstantValue && BodyFacts.TryLong(f.ConstantValue, out long v) && v == value)?.Name ?? value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>An argument as a value: its interval when it folds, and its value key, which compares it with other arguments.</summary>
    private Operand OperandOf(IOperation? argument)
    {
        if (argument is null)
        {
            return new Operand(null, -1, null);
        }

        Interval? value = _values.Evaluate(argument);
        int key = value is { IsConstant: true } ? -1 : _paths.Keys.KeyOf(argument);
        return new Operand(value, key, argument.Syntax);
    }
}
