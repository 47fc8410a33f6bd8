// Per-method summaries of the ways a method of the compilation may block, under conditions on its inputs, computed
// once per compilation and safe under recursion.
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace DmaBuf.Analyzers.Blocking;

// The per-method summaries and their least fixed point. A method's summary is the set of ways its body may block:
// each under a guard on its own inputs (a bool parameter's value, whether a stream it is given is in memory), at some
// depth of calls. A way of a callee holds at a call site when its guard, with the site's arguments put in, is not
// false; what is left of it (a literal on the caller's own inputs) becomes the caller's guard, together with the
// path conditions of the site (`else` of `if (async)`). Summaries are computed on demand, once per method, for every
// method reachable from a query at once, and kept.

/// <summary>What calling (or enumerating) a method of the compilation may do.</summary>
internal sealed class Summary
{
    public Summary(ImmutableArray<Way> ways, bool isIterator)
    {
        Ways = ways;
        IsIterator = isIterator;
    }

    /// <summary>The ways its body may block.</summary>
    public ImmutableArray<Way> Ways { get; }

    /// <summary>Whether it is an iterator, whose body runs only when enumerated.</summary>
    public bool IsIterator { get; }
}

/// <summary>A site of a scanned body, with its own guard: the site's conditions and the path facts where it is.</summary>
internal sealed class ScannedSite
{
    private readonly Dictionary<(IMethodSymbol, Guard), Guard?> _instantiated = new();

    public ScannedSite(Site site, Guard? guard, Facts facts)
    {
        Site = site;
        Guard = guard;
        Facts = facts;
    }

    public Site Site { get; }

    /// <summary>The site's own guard; null when it cannot block (never reached, an in-memory receiver, a completed task).</summary>
    public Guard? Guard { get; }

    public Facts Facts { get; }

    public bool TryGetInstantiated(IMethodSymbol target, Guard callee, out Guard? result) => _instantiated.TryGetValue((target, callee), out result);

    public void SetInstantiated(IMethodSymbol target, Guard callee, Guard? result) => _instantiated[(target, callee)] = result;
}

/// <summary>A method's body as sites, in document order.</summary>
internal sealed class MethodScan
{
    public MethodScan(IMethodSymbol method, List<ScannedSite> sites, bool isIterator)
    {
        Method = method;
        Sites = sites;
        IsIterator = isIterator;
    }

    public IMethodSymbol Method { get; }

    public List<ScannedSite> Sites { get; }

    public bool IsIterator { get; }
}

/// <summary>Computes and keeps the summaries of one compilation; thread-safe.</summary>
internal sealed class BlockingSummaries
{
    private readonly BlockingSites _sites;
    private readonly InMemoryValues _values;
    private readonly PathFacts _facts;
    private readonly BlockingBodies _bodies;
    private readonly AssignedValues _assigned;
    private readonly ConcurrentDictionary<IMethodSymbol, Summary> _summaries = new(SymbolEqualityComparer.Default);

    public BlockingSummaries(BlockingSites sites, InMemoryValues values, PathFacts facts, BlockingBodies bodies, AssignedValues assigned)
    {
        _assigned = assigned;
        _sites = sites;
        _values = values;
        _facts = facts;
        _bodies = bodies;
    }

    /// <summary>The summary of a method of the compilation (a definition with a body), computing it with everything it reaches.</summary>
    public Summary Get(IMethodSymbol method, CancellationToken cancellationToken)
    {
        if (_summaries.TryGetValue(method, out Summary? cached))
        {
            return cached;
        }

        // Scan every method reachable from this one that has no summary yet.
        var scans = new Dictionary<IMethodSymbol, MethodScan>(SymbolEqualityComparer.Default);
        var order = new List<IMethodSymbol>();
        var callers = new Dictionary<IMethodSymbol, List<IMethodSymbol>>(SymbolEqualityComparer.Default);
        var pending = new Stack<IMethodSymbol>();
        pending.Push(method);
        while (pending.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            IMethodSymbol current = pending.Pop();
            if (scans.ContainsKey(current) || _summaries.ContainsKey(current))
            {
                continue;
            }

            MethodScan scan = Scan(current, cancellationToken);
            scans.Add(current, scan);
            order.Add(current);
            foreach (ScannedSite site in scan.Sites)
            {
                foreach (IMethodSymbol target in site.Site.Targets)
                {
                    if (!callers.TryGetValue(target, out List<IMethodSymbol>? list))
                    {
                        list = new List<IMethodSymbol>();
                        callers.Add(target, list);
                    }

                    list.Add(current);
                    if (!scans.ContainsKey(target) && !_summaries.ContainsKey(target))
                    {
                        pending.Push(target);
                    }
                }
            }
        }

        // Least fixed point: start with no ways anywhere and recompute a method whenever a callee's ways change. The
        // ways only grow (each new set dominates the old), the literals are finitely many and the sets are bounded, so
        // it ends; the budget only guards against a cap on the set size making it oscillate.
        var ways = new Dictionary<IMethodSymbol, ImmutableArray<Way>>(SymbolEqualityComparer.Default);
        foreach (IMethodSymbol current in order)
        {
            ways[current] = ImmutableArray<Way>.Empty;
        }

        var queue = new Queue<IMethodSymbol>(order);
        var queued = new HashSet<IMethodSymbol>(order, SymbolEqualityComparer.Default);
        int budget = (order.Count * 32) + 64;
        while (queue.Count > 0 && budget-- > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            IMethodSymbol current = queue.Dequeue();
            queued.Remove(current);
            ImmutableArray<Way> computed = Compute(scans[current], target => Lookup(target, scans, ways, cancellationToken), cancellationToken);
            if (WaySet.SameAs(computed, ways[current]))
            {
                continue;
            }

            ways[current] = computed;
            if (callers.TryGetValue(current, out List<IMethodSymbol>? dependents))
            {
                foreach (IMethodSymbol dependent in dependents)
                {
                    if (queued.Add(dependent))
                    {
                        queue.Enqueue(dependent);
                    }
                }
            }
        }

        foreach (IMethodSymbol current in order)
        {
            _summaries.TryAdd(current, new Summary(ways[current], scans[current].IsIterator));
        }

        return _summaries[method];
    }

    /// <summary>Scans a method's body into sites with their own guards.</summary>
    public MethodScan Scan(IMethodSymbol method, CancellationToken cancellationToken)
    {
        var sites = new List<ScannedSite>();
        bool isIterator = false;
        bool isAsync = method.IsAsync;
        BodyFacts? facts = null;
        bool needsFacts = HasTrackedParameter(method);
        foreach (IOperation body in _bodies.Of(method, cancellationToken))
        {
            foreach (IOperation operation in BlockingAnalysis.Walk(body, cancellationToken))
            {
                if (operation is IReturnOperation { Kind: OperationKind.YieldReturn or OperationKind.YieldBreak })
                {
                    isIterator = true;
                }

                foreach (Site site in _sites.Classify(operation, cancellationToken))
                {
                    if (isAsync && site.IsAwait)
                    {
                        continue;
                    }

                    Facts here = Facts.None;
                    if (needsFacts || NeedsFacts(site))
                    {
                        facts ??= _facts.Of(method, cancellationToken);
                        here = facts.At(site.Operation.Syntax);
                    }

                    sites.Add(new ScannedSite(site, OwnGuard(site, here, method, cancellationToken), here));
                }
            }
        }

        return new MethodScan(method, sites, isIterator);
    }

    /// <summary>The guard of a site by itself: null when it cannot block; else its receiver's literal and the path's bool facts.</summary>
    public Guard? OwnGuard(Site site, Facts facts, IMethodSymbol? method, CancellationToken cancellationToken)
    {
        if (facts.IsDead)
        {
            return null;
        }

        var literals = new List<Literal>();
        if (site.TaskReceiver is not null && PathFacts.TaskKey(site.TaskReceiver) is { } task)
        {
            if (facts.Completed.Contains(task))
            {
                return null;
            }

            if (task is IParameterSymbol { RefKind: RefKind.None } parameter && method is not null &&
                SymbolEqualityComparer.Default.Equals(parameter.ContainingSymbol?.OriginalDefinition, method.OriginalDefinition) &&
                _assigned.ForOperation(site.TaskReceiver, cancellationToken).Of(parameter).Count == 0)
            {
                // The result of a task the caller gives: it waits only if the caller's task has not completed.
                literals.Add(Literal.NotCompleted(parameter.Ordinal));
            }
        }

        if (site.IoReceiver is not null)
        {
            ValueResult receiver = _values.Evaluate(site.IoReceiver, ImmutableArray<IFieldSymbol>.Empty, method, cancellationToken);
            if (receiver.Verdict == ValueVerdict.NoBlock)
            {
                return null;
            }

            if (receiver.Literal is { } literal)
            {
                literals.Add(literal);
            }
        }

        foreach (KeyValuePair<int, bool> known in facts.Bools)
        {
            literals.Add(Literal.BoolIs(known.Key, known.Value));
        }

        foreach (int array in facts.NonEmpty)
        {
            literals.Add(Literal.NonEmpty(array));
        }

        return Guard.Of(literals);
    }

    /// <summary>The ways of a scanned method, from its sites and the current ways of what they call.</summary>
    public ImmutableArray<Way> Compute(MethodScan scan, Func<IMethodSymbol, Summary> lookup, CancellationToken cancellationToken)
    {
        var ways = new List<Way>();
        foreach (ScannedSite site in scan.Sites)
        {
            foreach ((Guard guard, int depth, _, _) in WaysAt(site, scan.Method, lookup, cancellationToken))
            {
                WaySet.Add(ways, new Way(guard, depth));
            }
        }

        return WaySet.Freeze(ways);
    }

    /// <summary>Each way the site blocks in, in terms of the enclosing method's inputs: its depth, and the callee way it goes through (none for a direct site).</summary>
    public IEnumerable<(Guard Guard, int Depth, IMethodSymbol? Target, Way CalleeWay)> WaysAt(ScannedSite site, IMethodSymbol? method, Func<IMethodSymbol, Summary> lookup, CancellationToken cancellationToken)
    {
        if (site.Guard is null)
        {
            yield break;
        }

        if (site.Site.Kind == SiteKind.Direct)
        {
            yield return (site.Guard, 0, null, default);
            yield break;
        }

        foreach (IMethodSymbol target in site.Site.Targets)
        {
            Summary summary = lookup(target);
            if (summary.IsIterator != (site.Site.Kind == SiteKind.Enumerate))
            {
                // Calling an iterator does not run it; enumerating what a non-iterator returned runs none of its body.
                continue;
            }

            // A virtual call reaches an override only on objects of its type: say so, where the receiver is an input.
            Literal? receiverIs = null;
            if (site.Site.Targets.Length > 1 && target.ContainingType is { } targetType && !target.IsStatic)
            {
                IOperation? receiver = site.Site.Receiver;
                switch (DispatchTargets.IsInstanceOf(receiver?.Type, _values.ExactType(receiver, cancellationToken), targetType))
                {
                    case false:
                        continue;
                    case null:
                        receiverIs = Root(receiver, method, cancellationToken) is int root ? Literal.IsA(root, targetType) : null;
                        break;
                }
            }

            foreach (Way way in summary.Ways)
            {
                if (Instantiate(site, target, way.Guard, method, cancellationToken) is { } guard)
                {
                    yield return (receiverIs is null ? guard : Guard.Of(guard.Literals.Add(receiverIs)) ?? guard, way.Depth + 1, target, way);
                }
            }
        }
    }

    /// <summary>A callee's guard with the site's receiver and arguments put in: null when that makes it false.</summary>
    private Guard? Instantiate(ScannedSite site, IMethodSymbol target, Guard callee, IMethodSymbol? method, CancellationToken cancellationToken)
    {
        if (site.TryGetInstantiated(target, callee, out Guard? cached))
        {
            return cached;
        }

        var literals = new List<Literal>(site.Guard!.Literals);
        Guard? result = null;
        bool holds = true;
        foreach (Literal literal in callee.Literals)
        {
            switch (literal.Kind)
            {
                case LiteralKind.BoolIs:
                    {
                        IOperation? argument = site.Site.Argument(literal.Root);
                        (bool? constant, int parameter, bool negated) = BoolArgument(argument, method, site.Facts, cancellationToken);
                        if (constant is bool value)
                        {
                            holds &= value == literal.Value;
                        }
                        else if (parameter >= 0)
                        {
                            literals.Add(Literal.BoolIs(parameter, negated ? !literal.Value : literal.Value));
                        }

                        break;
                    }

                case LiteralKind.NonEmpty:
                    {
                        IOperation? value = BlockingSites.StripConversions(site.Site.Argument(literal.Root));
                        if (IsEmptyArray(value, cancellationToken))
                        {
                            holds = false;
                        }
                        else if (Root(value, method, cancellationToken) is int root && root >= 0 && !site.Facts.NonEmpty.Contains(root))
                        {
                            literals.Add(Literal.NonEmpty(root));
                        }

                        break;
                    }

                case LiteralKind.NotCompleted:
                    {
                        IOperation? value = site.Site.Argument(literal.Root);
                        if (PathFacts.TaskKey(value) is { } task && site.Facts.Completed.Contains(task))
                        {
                            holds = false;
                        }
                        else if (Root(value, method, cancellationToken) is int root && root >= 0)
                        {
                            literals.Add(Literal.NotCompleted(root));
                        }

                        break;
                    }

                case LiteralKind.IsA:
                    {
                        IOperation? value = BlockingSites.StripConversions(literal.Root == Literal.Receiver ? site.Site.Receiver : site.Site.Argument(literal.Root));
                        if (value is null || literal.Type is null)
                        {
                            break;
                        }

                        bool? isA = DispatchTargets.IsInstanceOf(value.Type, _values.ExactType(value, cancellationToken), literal.Type);
                        holds &= isA != false;
                        if (isA is null && Root(value, method, cancellationToken) is int root)
                        {
                            literals.Add(Literal.IsA(root, literal.Type));
                        }

                        break;
                    }

                case LiteralKind.NotInMemory:
                    {
                        IOperation? value = literal.Root == Literal.Receiver ? site.Site.Receiver : site.Site.Argument(literal.Root);
                        if (value is null)
                        {
                            break;
                        }

                        ValueResult evaluated = _values.Evaluate(value, literal.Fields, method, cancellationToken);
                        holds &= evaluated.Verdict != ValueVerdict.NoBlock;
                        if (evaluated.Literal is { } inherited)
                        {
                            literals.Add(inherited);
                        }

                        break;
                    }
            }

            if (!holds)
            {
                break;
            }
        }

        if (holds)
        {
            result = Guard.Of(literals);
        }

        site.SetInstantiated(target, callee, result);
        return result;
    }

    /// <summary>A bool argument: a constant, or the caller's own (unchanged) bool parameter, maybe negated; else neither (-1).</summary>
    private (bool? Constant, int Parameter, bool Negated) BoolArgument(IOperation? argument, IMethodSymbol? method, Facts facts, CancellationToken cancellationToken)
    {
        bool negated = false;
        IOperation? current = argument;
        for (int i = 0; i < 4 && current is not null; i++)
        {
            current = BlockingSites.StripConversions(current);
            if (current?.ConstantValue is { HasValue: true, Value: bool constant })
            {
                return (constant != negated, -1, false);
            }

            switch (current)
            {
                case IUnaryOperation { OperatorKind: UnaryOperatorKind.Not, OperatorMethod: null } not:
                    negated = !negated;
                    current = not.Operand;
                    continue;
                case IParameterReferenceOperation parameter when method is not null && SymbolEqualityComparer.Default.Equals(parameter.Parameter.ContainingSymbol?.OriginalDefinition, method.OriginalDefinition) &&
                    _assigned.ForOperation(parameter, cancellationToken).Of(parameter.Parameter).Count == 0:
                    if (facts.Bools.TryGetValue(parameter.Parameter.Ordinal, out bool known))
                    {
                        return (known != negated, -1, false);
                    }

                    return (null, parameter.Parameter.Ordinal, negated);
            }

            break;
        }

        return (null, -1, false);
    }

    /// <summary>The input of <paramref name="method"/> a value is: its receiver, or one of its (unchanged) parameters.</summary>
    private int? Root(IOperation? value, IMethodSymbol? method, CancellationToken cancellationToken)
    {
        switch (BlockingSites.StripConversions(value))
        {
            case IInstanceReferenceOperation { ReferenceKind: InstanceReferenceKind.ContainingTypeInstance } when method is { IsStatic: false }:
                return Literal.Receiver;
            case IParameterReferenceOperation parameter when method is not null && parameter.Parameter.RefKind == RefKind.None &&
                SymbolEqualityComparer.Default.Equals(parameter.Parameter.ContainingSymbol?.OriginalDefinition, method.OriginalDefinition) &&
                _assigned.ForOperation(parameter, cancellationToken).Of(parameter.Parameter).Count == 0:
                return parameter.Parameter.Ordinal;
            default:
                return null;
        }
    }

    /// <summary>
    /// An array that is empty for certain: <c>new T[0]</c>, <c>new T[] { }</c>, no arguments for a <c>params</c>
    /// parameter, <c>Array.Empty&lt;T&gt;()</c>, or a call of a method of the compilation that only returns one of these.
    /// </summary>
    private bool IsEmptyArray(IOperation? value, CancellationToken cancellationToken, int depth = 0)
    {
        switch (BlockingSites.StripConversions(value))
        {
            case IArrayCreationOperation { Initializer: { ElementValues.Length: 0 } }:
                return true;
            case IArrayCreationOperation { Initializer: null, DimensionSizes.Length: 1 } creation:
                return creation.DimensionSizes[0].ConstantValue is { HasValue: true, Value: 0 };
            case IInvocationOperation { TargetMethod: { Name: "Empty", ContainingType.SpecialType: SpecialType.System_Array } }:
                return true;
            case IInvocationOperation { Arguments.Length: 0 } call when depth < 2:
                foreach (IOperation body in _bodies.Of(BlockingSites.Normalize(call.TargetMethod), cancellationToken))
                {
                    if (body is IBlockOperation { Operations.Length: 1 } block && block.Operations[0] is IReturnOperation { ReturnedValue: { } returned })
                    {
                        return IsEmptyArray(returned, cancellationToken, depth + 1);
                    }
                }

                return false;
            default:
                return false;
        }
    }

    /// <summary>Whether a site's path facts matter whatever its method's parameters: it reads a task's result, or passes a task on.</summary>
    public static bool NeedsFacts(Site site)
    {
        if (site.TaskReceiver is not null)
        {
            return true;
        }

        foreach (IArgumentOperation argument in site.Arguments)
        {
            if (PathFacts.IsTaskType(argument.Value.Type as INamedTypeSymbol) || PathFacts.IsTaskType((argument.Value as IConversionOperation)?.Operand.Type as INamedTypeSymbol))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether the path facts of a body matter: it has a parameter they follow.</summary>
    public static bool HasTrackedParameter(IMethodSymbol method)
    {
        foreach (IParameterSymbol parameter in method.Parameters)
        {
            if (PathFacts.IsTracked(parameter))
            {
                return true;
            }
        }

        return false;
    }

    private Summary Lookup(IMethodSymbol target, Dictionary<IMethodSymbol, MethodScan> scans, Dictionary<IMethodSymbol, ImmutableArray<Way>> ways, CancellationToken cancellationToken) =>
        scans.TryGetValue(target, out MethodScan? scan) ? new Summary(ways[target], scan.IsIterator) : Get(target, cancellationToken);
}
