// Holders: which locals and flow captures hold each access, mapping, reference and table, how an assignment,
// capture, deconstruction or pattern moves them, and what a write makes paths forget (facts, value keys of ranges
// and pages, the buffer a local named). Ids for buffers, sites and holders live here too.
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

    /// <summary>The holders an expression denotes (a local or a flow capture), for the rules.</summary>
    public ImmutableArray<int> HoldersOfExpression(IOperation? expression)
    {
        ImmutableArray<int> holders = expression is null ? ImmutableArray<int>.Empty : HoldersOf(expression);
        return holders.Contains(Pending) ? ImmutableArray<int>.Empty : holders;
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

    /// <summary>A <c>Nullable&lt;T&gt;</c> value: its <c>Value</c> denotes what the nullable holds.</summary>
    private static bool IsNullableValue(IOperation operation) =>
        operation.Type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T };

    /// <summary>The value without its conversions and parentheses, the one explicit conversion included.</summary>
    private static IOperation Unwrapped(IOperation value)
    {
        IOperation unwrapped = BodyFacts.Unwrap(value);
        return unwrapped is IConversionOperation explicitConversion ? BodyFacts.Unwrap(explicitConversion.Operand) : unwrapped;
    }
}
