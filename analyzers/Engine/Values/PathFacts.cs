// The values part of a path's state: what each path knows of the values the body tests (null tests, bool, integer
// and enum comparisons), so that a second test of an unchanged value follows the first and paths that cannot happen
// are dropped. It owns the facts of a Config and may touch nothing else of it. Only values that some branch tests
// (and the values copied into them) have facts, and a fact is forgotten where its value is no longer tested later
// (liveness), so that paths differing only in values nobody looks at again merge.
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace DmaBuf.Analyzers.Engine;

internal sealed class PathFacts
{
    private readonly ControlFlowGraph _cfg;
    private readonly ValueKeys _keys;
    private readonly KnownSymbols _symbols;
    private readonly HashSet<int> _tracked = new();
    private readonly Dictionary<BasicBlock, ConditionTest> _tests = new();
    private readonly Dictionary<BasicBlock, int> _returns = new();
    private readonly HashSet<int>[] _liveIn;

    public PathFacts(ControlFlowGraph cfg, ValueKeys keys, KnownSymbols symbols)
    {
        _cfg = cfg;
        _keys = keys;
        _symbols = symbols;
        _liveIn = new HashSet<int>[cfg.Blocks.Length];
        foreach (BasicBlock block in cfg.Blocks)
        {
            if (block.ConditionKind != ControlFlowConditionKind.None && block.BranchValue is not null && Conditions.Read(block.BranchValue, keys) is { } test)
            {
                _tests.Add(block, test);
                _tracked.Add(test.Key);
            }
            else if (block.ConditionKind == ControlFlowConditionKind.None && block.FallThroughSuccessor?.Semantics == ControlFlowBranchSemantics.Return &&
                block.BranchValue is { } returned && ReturnedKey(returned) is int key and >= 0)
            {
                // What a method returns on each way out is part of its summary: the value is followed like a tested one.
                _returns.Add(block, key);
                _tracked.Add(key);
            }
        }

        if (_tracked.Count == 0)
        {
            return;
        }

        var copies = new Dictionary<BasicBlock, List<(int Target, int Source)>>();
        var kills = new Dictionary<BasicBlock, HashSet<int>>();
        CollectCopiesAndWrites(copies, kills);
        ComputeLiveness(copies, kills);
    }

    /// <summary>Whether any value of the body is tested, so that paths may carry facts at all.</summary>
    public bool Any => _tracked.Count > 0;

    public ValueKeys Keys => _keys;

    /// <summary>The configurations that may take each branch of a block's condition, each knowing the outcome.</summary>
    public (FlowState? WhenTrue, FlowState? WhenFalse) Split(BasicBlock block, FlowState state)
    {
        if (state.IsTop || !_tests.TryGetValue(block, out ConditionTest test))
        {
            return (state, state);
        }

        return (Narrow(state, test.Key, test.WhenTrue), Narrow(state, test.Key, test.WhenFalse));
    }

    /// <summary>The facts of configurations entering block <paramref name="ordinal"/>, without those it never looks at again.</summary>
    public Config Restrict(Config config, int ordinal)
    {
        if (config.Facts.IsEmpty)
        {
            return config;
        }

        HashSet<int>? live = _liveIn[ordinal];
        ImmutableDictionary<int, Fact> facts = config.Facts;
        foreach (int key in config.Facts.Keys)
        {
            if (live is null || !live.Contains(key))
            {
                facts = facts.Remove(key);
            }
        }

        return ReferenceEquals(facts, config.Facts) ? config : config.WithFacts(facts);
    }

    /// <summary>A variable or member was written: what was known of every value that depends on it is forgotten.</summary>
    public Config Forget(Config config, ISymbol written) => Forget(config, _keys.Dependents(written));

    /// <summary>A call runs again: what was known of the value it returned last time is forgotten.</summary>
    public Config ForgetResult(Config config, IInvocationOperation call)
    {
        if (config.Facts.IsEmpty)
        {
            return config;
        }

        int key = _keys.ResultKey(call);
        return config.Facts.ContainsKey(key) ? config.WithFacts(config.Facts.Remove(key)) : config;
    }

    /// <summary>A flow capture was given a new value.</summary>
    public Config Forget(Config config, CaptureId capture) => Forget(config, _keys.Dependents(capture));

    /// <summary>A variable (or capture) whose key is <paramref name="target"/> was given <paramref name="value"/>: it now has the value's fact.</summary>
    public Config Assign(Config config, int target, IOperation value)
    {
        if (target < 0 || !_tracked.Contains(target))
        {
            return config;
        }

        Fact fact = FactOf(config, value, 0);
        return fact.IsUnknown ? config : config.WithFacts(config.Facts.SetItem(target, fact));
    }

    /// <summary>The path knows <paramref name="fact"/> of the value with key <paramref name="key"/> (when some branch tests it).</summary>
    public Config Set(Config config, int key, Fact fact) =>
        key < 0 || !_tracked.Contains(key) || fact.IsUnknown ? config : config.WithFacts(config.Facts.SetItem(key, fact));

    /// <summary>What a path knows of the value of an expression.</summary>
    public Fact FactOf(Config config, IOperation? value) => value is null ? Fact.Unknown : FactOf(config, value, 0);

    private Fact FactOf(Config config, IOperation value, int depth)
    {
        if (depth > 8)
        {
            return Fact.Unknown;
        }

        if (value.ConstantValue.HasValue)
        {
            object? constant = value.ConstantValue.Value;
            if (constant is null)
            {
                return Fact.Null;
            }

            if (constant is bool b)
            {
                return Fact.Value(b ? 1 : 0);
            }

            return BodyFacts.TryLong(constant, out long number) ? Fact.Value(number) : constant is string ? Fact.NotNull : Fact.Unknown;
        }

        switch (value)
        {
            case IConversionOperation { Type: { } wrapped, Operand.Type: { IsValueType: true } operandType } when IsNullable(wrapped) && !IsNullable(operandType):
                // A value wrapped in Nullable<T> has a value.
                return Fact.NotNull;
            case IConversionOperation conversion when conversion.OperatorMethod is null:
                // A value converted keeps its null-ness; a number converted keeps its value only when it widens.
                Fact operand = FactOf(config, conversion.Operand, depth + 1);
                return conversion.Conversion.IsNumeric && !conversion.Conversion.IsImplicit ? (operand.Nullness == Nullness.Unknown ? Fact.Unknown : operand.Nullness == Nullness.Null ? Fact.Null : Fact.NotNull) : operand;
            case IParenthesizedOperation parenthesized:
                return FactOf(config, parenthesized.Operand, depth + 1);
            case IUnaryOperation { OperatorKind: UnaryOperatorKind.Not, OperatorMethod: null } not:
                Fact inner = FactOf(config, not.Operand, depth + 1);
                return inner.Constant is { } truth ? Fact.Value(truth == 0 ? 1 : 0) : Fact.Unknown;
            case IObjectCreationOperation or IArrayCreationOperation or IAnonymousObjectCreationOperation or IDelegateCreationOperation or ITupleOperation or IInterpolatedStringOperation:
                return value.Type?.IsValueType == true && !IsNullable(value.Type) ? Fact.Unknown : Fact.NotNull;
            case IInvocationOperation invocation when ReturnsNonNull(invocation):
                return Fact.NotNull;
            case IInvocationOperation call when config.Facts.TryGetValue(_keys.ResultKey(call), out Fact result):
                // What the callee's summary says this call returned on this path.
                return result;
            case IUnaryOperation { OperatorKind: UnaryOperatorKind.Minus, OperatorMethod: null } minus:
                Fact negated = FactOf(config, minus.Operand, depth + 1);
                return negated.Low > long.MinValue && !negated.IsUnknown && negated.Nullness == Nullness.Unknown
                    ? Fact.Range(negated.High == long.MaxValue ? long.MinValue + 1 : -negated.High, -negated.Low)
                    : Fact.Unknown;
            case IPropertyReferenceOperation { Property.Name: "Errno" } errno when _symbols.DmaBufException is { } exception && IsOrDerives(errno.Property.ContainingType, exception):
                // The errno a failed runtime call carries is a positive number, so `ret = -e.Errno` is negative.
                return Fact.Range(1, int.MaxValue);
        }

        int key = _keys.KeyOf(value);
        if (key >= 0 && config.Facts.TryGetValue(key, out Fact known))
        {
            return known;
        }

        if (value.Type?.SpecialType == SpecialType.System_Boolean && Conditions.Read(value, _keys) is { } test && config.Facts.TryGetValue(test.Key, out Fact tested))
        {
            // `bool ok = ret == 0;` on a path that knows ret: ok is known too.
            if (tested.Meet(test.WhenTrue).IsEmpty)
            {
                return Fact.Value(0);
            }

            if (tested.Meet(test.WhenFalse).IsEmpty)
            {
                return Fact.Value(1);
            }
        }

        return Fact.Unknown;
    }

    private bool ReturnsNonNull(IInvocationOperation invocation) =>
        SymbolEqualityComparer.Default.Equals(invocation.TargetMethod.ContainingType, _symbols.DmaBuffer) && invocation.Type?.IsReferenceType == true;

    private static bool IsOrDerives(ITypeSymbol? type, ITypeSymbol baseType)
    {
        for (ITypeSymbol? current = type; current is not null; current = current.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(current, baseType))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsNullable(ITypeSymbol? type) => type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T };

    private FlowState? Narrow(FlowState state, int key, Fact outcome)
    {
        Fact domain = Domain(key);
        return state.Where(c => !Known(c, key, domain).Meet(outcome).IsEmpty)?.Map(c =>
        {
            Fact narrowed = Known(c, key, domain).Meet(outcome);
            return narrowed.IsUnknown || narrowed.Equals(domain) || (c.Facts.TryGetValue(key, out Fact old) && old.Equals(narrowed)) ? c : c.WithFacts(c.Facts.SetItem(key, narrowed));
        });
    }

    private static Fact Known(Config config, int key, Fact domain) => config.Facts.TryGetValue(key, out Fact fact) ? fact : domain;

    /// <summary>
    /// What any value of the key's type is: a bool is 0 or 1, and a value of an enum that is not [Flags] is one of its
    /// members (a value outside them is taken not to happen, so a switch over every member has no fall-through path).
    /// </summary>
    private Fact Domain(int key)
    {
        ITypeSymbol? type = _keys.TypeOf(key);
        if (type?.SpecialType == SpecialType.System_Boolean)
        {
            return Fact.Range(0, 1);
        }

        if (type is INamedTypeSymbol { TypeKind: TypeKind.Enum } enumType && !enumType.GetAttributes().Any(a => a.AttributeClass?.Name == "FlagsAttribute"))
        {
            long? low = null;
            long? high = null;
            var values = new HashSet<long>();
            foreach (IFieldSymbol field in enumType.GetMembers().OfType<IFieldSymbol>())
            {
                if (field.HasConstantValue && BodyFacts.TryLong(field.ConstantValue, out long value))
                {
                    values.Add(value);
                    low = low is null ? value : System.Math.Min(low.Value, value);
                    high = high is null ? value : System.Math.Max(high.Value, value);
                }
            }

            // Only a contiguous set of members is an interval; gaps would let values through that cannot happen.
            if (low is { } l && high is { } h && h - l + 1 == values.Count)
            {
                return Fact.Range(l, h);
            }
        }

        return Fact.Unknown;
    }

    private static Config Forget(Config config, IReadOnlyList<int> keys)
    {
        if (config.Facts.IsEmpty || keys.Count == 0)
        {
            return config;
        }

        ImmutableDictionary<int, Fact> facts = config.Facts;
        foreach (int key in keys)
        {
            facts = facts.Remove(key);
        }

        return ReferenceEquals(facts, config.Facts) ? config : config.WithFacts(facts);
    }

    private void CollectCopiesAndWrites(Dictionary<BasicBlock, List<(int Target, int Source)>> copies, Dictionary<BasicBlock, HashSet<int>> kills)
    {
        var allCopies = new List<(int Target, int Source)>();
        foreach (BasicBlock block in _cfg.Blocks)
        {
            var blockCopies = new List<(int Target, int Source)>();
            var blockKills = new HashSet<int>();
            foreach (IOperation root in block.Operations)
            {
                foreach (IOperation op in root.DescendantsAndSelf())
                {
                    switch (op)
                    {
                        case ISimpleAssignmentOperation assignment:
                            int target = _keys.KeyOf(assignment.Target);
                            int source = SourceKey(assignment.Value);
                            if (target >= 0 && source >= 0)
                            {
                                blockCopies.Add((target, source));
                            }

                            Written(assignment.Target, blockKills);
                            break;
                        case IFlowCaptureOperation capture:
                            blockKills.UnionWith(_keys.Dependents(capture.Id));
                            int capturedKey = _keys.CaptureKey(capture.Id);
                            int captured = SourceKey(capture.Value);
                            if (capturedKey >= 0 && captured >= 0)
                            {
                                blockCopies.Add((capturedKey, captured));
                            }

                            break;
                        case ICompoundAssignmentOperation compound:
                            Written(compound.Target, blockKills);
                            break;
                        case ICoalesceAssignmentOperation coalesce:
                            Written(coalesce.Target, blockKills);
                            break;
                        case IIncrementOrDecrementOperation increment:
                            // `p++` reads what was known of p to know the next value: a copy of p into itself.
                            Written(increment.Target, blockKills);
                            int counter = _keys.KeyOf(increment.Target);
                            if (counter >= 0)
                            {
                                blockCopies.Add((counter, counter));
                            }

                            break;
                        case IDeconstructionAssignmentOperation deconstruction:
                            foreach (IOperation part in deconstruction.Target.DescendantsAndSelf())
                            {
                                Written(part, blockKills);
                            }

                            break;
                        case IArgumentOperation { Parameter.RefKind: RefKind.Ref or RefKind.Out } byReference:
                            Written(byReference.Value, blockKills);
                            break;
                    }
                }
            }

            copies[block] = blockCopies;
            kills[block] = blockKills;
            allCopies.AddRange(blockCopies);
        }

        // A value copied into a tested one is tracked too, so the copy carries what is known (to any depth).
        bool changed = true;
        while (changed)
        {
            changed = false;
            foreach ((int target, int source) in allCopies)
            {
                if (_tracked.Contains(target) && _tracked.Add(source))
                {
                    changed = true;
                }
            }
        }
    }

    /// <summary>The key a copied value's fact comes from: its value key, or the result key of a call.</summary>
    private int SourceKey(IOperation value)
    {
        int key = _keys.KeyOf(value);
        return key < 0 && BodyFacts.Unwrap(value) is IInvocationOperation call ? _keys.ResultKey(call) : key;
    }

    private int ReturnedKey(IOperation returned) => returned.ConstantValue.HasValue ? -1 : SourceKey(returned);

    private void Written(IOperation target, HashSet<int> kills)
    {
        ISymbol? symbol = BodyFacts.Unwrap(target) switch
        {
            ILocalReferenceOperation local => local.Local,
            IParameterReferenceOperation parameter => parameter.Parameter,
            IFieldReferenceOperation field => field.Field,
            IPropertyReferenceOperation property => property.Property,
            IDeclarationExpressionOperation => null,
            _ => null,
        };

        if (symbol is not null)
        {
            kills.UnionWith(_keys.Dependents(symbol));
        }
    }

    /// <summary>
    /// Backward liveness of the tracked values over the graph: a value is live at a block when a test of it, or a copy
    /// from it into a tracked value, can be reached from there before it is written. Exceptional flow is taken
    /// generously (a block in a try region also flows into its handlers, the end of a finally into everything), which
    /// only keeps facts longer than needed.
    /// </summary>
    private void ComputeLiveness(Dictionary<BasicBlock, List<(int Target, int Source)>> copies, Dictionary<BasicBlock, HashSet<int>> kills)
    {
        for (int i = 0; i < _liveIn.Length; i++)
        {
            _liveIn[i] = new HashSet<int>();
        }

        bool changed = true;
        int rounds = 0;
        while (changed && rounds++ < 64)
        {
            changed = false;
            for (int ordinal = _cfg.Blocks.Length - 1; ordinal >= 0; ordinal--)
            {
                BasicBlock block = _cfg.Blocks[ordinal];
                var live = new HashSet<int>();
                foreach (int successor in Successors(block))
                {
                    live.UnionWith(_liveIn[successor]);
                }

                if (EndsRegion(block))
                {
                    // The end of a finally or a filter may go on to anywhere: everything tracked stays live.
                    live.UnionWith(_tracked);
                }

                if (_tests.TryGetValue(block, out ConditionTest test))
                {
                    live.Add(test.Key);
                }

                if (_returns.TryGetValue(block, out int returned))
                {
                    live.Add(returned);
                }

                live.ExceptWith(kills[block]);

                // A handler may be entered from the middle of the block, before its writes.
                foreach (int handler in Handlers(block))
                {
                    live.UnionWith(_liveIn[handler]);
                }

                foreach ((int target, int source) in copies[block])
                {
                    if (_tracked.Contains(target))
                    {
                        live.Add(source);
                    }
                }

                if (!live.SetEquals(_liveIn[ordinal]))
                {
                    _liveIn[ordinal] = live;
                    changed = true;
                }
            }
        }
    }

    /// <summary>
    /// The region around <paramref name="region"/> in the same graph, or null at the graph's root: a lambda's or local
    /// function's graph hangs in its enclosing graph's regions, whose blocks are not its own.
    /// </summary>
    public static ControlFlowRegion? Outer(ControlFlowGraph graph, ControlFlowRegion region) =>
        ReferenceEquals(region, graph.Root) ? null : region.EnclosingRegion;

    private static bool EndsRegion(BasicBlock block) =>
        block.FallThroughSuccessor?.Semantics == ControlFlowBranchSemantics.StructuredExceptionHandling ||
        block.ConditionalSuccessor?.Semantics == ControlFlowBranchSemantics.StructuredExceptionHandling;

    private IEnumerable<int> Successors(BasicBlock block)
    {
        foreach (ControlFlowBranch? branch in new[] { block.ConditionalSuccessor, block.FallThroughSuccessor })
        {
            if (branch is null)
            {
                continue;
            }

            if (branch.Semantics == ControlFlowBranchSemantics.StructuredExceptionHandling)
            {
                // The end of a finally or a filter: it may go on to anywhere (see EndsRegion).
                continue;
            }

            if (branch.Destination is { } destination)
            {
                yield return destination.Ordinal;
            }

            foreach (ControlFlowRegion finallyRegion in branch.FinallyRegions)
            {
                yield return finallyRegion.FirstBlockOrdinal;
            }
        }

    }

    /// <summary>The first blocks of the catch, filter and finally regions an exception in the block may run.</summary>
    private IEnumerable<int> Handlers(BasicBlock block)
    {
        for (ControlFlowRegion? region = block.EnclosingRegion; region is not null; region = Outer(_cfg, region))
        {
            if (region.Kind == ControlFlowRegionKind.Try && region.EnclosingRegion is { } parent)
            {
                foreach (ControlFlowRegion handler in parent.NestedRegions.Skip(1))
                {
                    yield return handler.FirstBlockOrdinal;
                }
            }
        }
    }
}
