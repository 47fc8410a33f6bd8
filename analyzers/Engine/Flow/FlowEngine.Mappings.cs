// The transfer of page mappings: Kmap and KmapAtomic map a page held by the variable given the result, Kunmap,
// KunmapAtomic and Dispose unmap what their argument holds (or, for pages kept elsewhere, those handed away).
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
                ended is IInvocationOperation end && _symbols.IsEnd(end.TargetMethod) && RangeOf(end).SameAs(range)))
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

    private static string PageText(IOperation? argument, Interval? page) =>
        page is { IsConstant: true } constant ? constant.ToString() : argument?.Syntax.ToString() ?? "?";
}
