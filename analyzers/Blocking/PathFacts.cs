// The facts (completed tasks, bool values) that hold on every path to a point of a body, from its control flow graph,
// for the blocking analysis.
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace DmaBuf.Analyzers.Blocking;

// What is known on every path that reaches an operation of a body, from its control flow graph: which bool
// parameters have which value (`if (async) ... else stream.Write(...)`), and which tasks have completed
// (`if (!task.IsCompleted) return; ... task.Result`, or after `await task`). A forward must-analysis over the graph's
// blocks, its facts recorded per syntax node so that any operation (of a tree or of another graph) can look them up.

/// <summary>The facts that hold on every path to a point; <see cref="Dead"/> where no path reaches it.</summary>
internal sealed class Facts
{
    public static readonly Facts None = new(ImmutableDictionary<int, bool>.Empty, ImmutableHashSet<int>.Empty, ImmutableHashSet<ISymbol>.Empty.WithComparer(SymbolEqualityComparer.Default), dead: false);

    public static readonly Facts Dead = new(ImmutableDictionary<int, bool>.Empty, ImmutableHashSet<int>.Empty, ImmutableHashSet<ISymbol>.Empty.WithComparer(SymbolEqualityComparer.Default), dead: true);

    private Facts(ImmutableDictionary<int, bool> bools, ImmutableHashSet<int> nonEmpty, ImmutableHashSet<ISymbol> completed, bool dead)
    {
        Bools = bools;
        NonEmpty = nonEmpty;
        Completed = completed;
        IsDead = dead;
    }

    /// <summary>The value of each bool parameter (by ordinal) that is known here.</summary>
    public ImmutableDictionary<int, bool> Bools { get; }

    /// <summary>The array parameters (by ordinal) known not to be empty here.</summary>
    public ImmutableHashSet<int> NonEmpty { get; }

    /// <summary>The tasks (locals, parameters, fields) known to have completed here.</summary>
    public ImmutableHashSet<ISymbol> Completed { get; }

    public bool IsDead { get; }

    public Facts WithBool(int parameter, bool value) =>
        Bools.TryGetValue(parameter, out bool known) && known != value ? Dead : new Facts(Bools.SetItem(parameter, value), NonEmpty, Completed, IsDead);

    /// <summary>These facts with only the completed tasks that <paramref name="keep"/> accepts.</summary>
    public Facts KeepCompleted(System.Func<ISymbol, bool> keep) => Completed.IsEmpty ? this : new Facts(Bools, NonEmpty, Completed.Where(keep).ToImmutableHashSet(SymbolEqualityComparer.Default), IsDead);

    public Facts WithNonEmpty(int parameter) => new(Bools, NonEmpty.Add(parameter), Completed, IsDead);

    public Facts WithCompleted(ISymbol task) => new(Bools, NonEmpty, Completed.Add(task), IsDead);

    public Facts Without(ISymbol written) => Completed.Contains(written) ? new Facts(Bools, NonEmpty, Completed.Remove(written), IsDead) : this;

    /// <summary>What holds on both: the facts they share.</summary>
    public Facts Meet(Facts other)
    {
        if (IsDead)
        {
            return other;
        }

        if (other.IsDead)
        {
            return this;
        }

        ImmutableDictionary<int, bool> bools = Bools.Where(b => other.Bools.TryGetValue(b.Key, out bool v) && v == b.Value).ToImmutableDictionary();
        return new Facts(bools, NonEmpty.Intersect(other.NonEmpty), Completed.Intersect(other.Completed), dead: false);
    }

    public bool SameAs(Facts other) =>
        IsDead == other.IsDead && Bools.Count == other.Bools.Count && NonEmpty.SetEquals(other.NonEmpty) && Completed.SetEquals(other.Completed) &&
        Bools.All(b => other.Bools.TryGetValue(b.Key, out bool v) && v == b.Value);
}

/// <summary>The facts of one body, by syntax node.</summary>
internal sealed class BodyFacts
{
    public static readonly BodyFacts Empty = new(new Dictionary<SyntaxNode, Facts>());

    private readonly Dictionary<SyntaxNode, Facts> _at;

    public BodyFacts(Dictionary<SyntaxNode, Facts> at) => _at = at;

    /// <summary>
    /// The facts where the operations of <paramref name="syntax"/> run. A statement the graph lowers into operations of
    /// its parts (a <c>lock</c>, a <c>using</c>, a <c>foreach</c>) has the facts of its first part that the graph has;
    /// <see cref="Facts.None"/> when it has none.
    /// </summary>
    public Facts At(SyntaxNode syntax)
    {
        if (_at.TryGetValue(syntax, out Facts? facts))
        {
            return facts;
        }

        foreach (SyntaxNode part in syntax.DescendantNodes())
        {
            if (_at.TryGetValue(part, out facts))
            {
                return facts;
            }
        }

        return Facts.None;
    }
}

/// <summary>Computes and caches the <see cref="BodyFacts"/> of the methods of a compilation.</summary>
internal sealed class PathFacts
{
    private const int MaxPredicateDepth = 2;

    private readonly SemanticModels _models;
    private readonly AssignedValues _assigned;
    private readonly ConcurrentDictionary<IMethodSymbol, BodyFacts> _bodies = new(SymbolEqualityComparer.Default);
    private readonly ConcurrentDictionary<IMethodSymbol, ImmutableArray<int>> _predicates = new(SymbolEqualityComparer.Default);

    public PathFacts(SemanticModels models, AssignedValues assigned)
    {
        _models = models;
        _assigned = assigned;
    }

    /// <summary>The facts of <paramref name="method"/>'s body (a method, accessor, constructor, local function or lambda of the compilation).</summary>
    public BodyFacts Of(IMethodSymbol method, CancellationToken cancellationToken)
    {
        if (_bodies.TryGetValue(method, out BodyFacts? cached))
        {
            return cached;
        }

        ControlFlowGraph? graph = GraphOf(method, 0, cancellationToken);
        BodyFacts facts = graph is null ? BodyFacts.Empty : Compute(method, graph, cancellationToken);
        return _bodies.GetOrAdd(method, facts);
    }

    /// <summary>The key of a task value (a local, parameter or field of <c>this</c>), seen through <c>ConfigureAwait</c>, <c>GetAwaiter</c>, <c>new ValueTask&lt;T&gt;(task)</c> and <c>Unsafe.As</c>.</summary>
    public static ISymbol? TaskKey(IOperation? operation)
    {
        for (int i = 0; i < 8 && operation is not null; i++)
        {
            switch (operation)
            {
                case IConversionOperation { OperatorMethod: null } conversion:
                    operation = conversion.Operand;
                    continue;
                case IInvocationOperation { TargetMethod.Name: "ConfigureAwait" or "GetAwaiter" or "AsTask", Instance: { } instance }:
                    operation = instance;
                    continue;
                case IInvocationOperation { TargetMethod: { Name: "As", ContainingType.Name: "Unsafe" }, Arguments.Length: 1 } unsafeAs:
                    operation = unsafeAs.Arguments[0].Value;
                    continue;
                case IObjectCreationOperation { Type.Name: "ValueTask", Arguments.Length: 1 } valueTask:
                    operation = valueTask.Arguments[0].Value;
                    continue;
                case ILocalReferenceOperation local:
                    return local.Local;
                case IParameterReferenceOperation parameter:
                    return parameter.Parameter;
                case IFieldReferenceOperation { Instance: null or IInstanceReferenceOperation } field:
                    return field.Field.OriginalDefinition;
                default:
                    return null;
            }
        }

        return null;
    }

    private ControlFlowGraph? GraphOf(IMethodSymbol method, int depth, CancellationToken cancellationToken)
    {
        if (depth > 8)
        {
            return null;
        }

        if (method.MethodKind is MethodKind.LocalFunction or MethodKind.AnonymousFunction)
        {
            if (method.ContainingSymbol is not IMethodSymbol container || GraphOf(container, depth + 1, cancellationToken) is not { } outer)
            {
                return null;
            }

            if (method.MethodKind == MethodKind.LocalFunction)
            {
                return outer.LocalFunctions.Contains(method, SymbolEqualityComparer.Default) ? outer.GetLocalFunctionControlFlowGraph(method, cancellationToken) : null;
            }

            foreach (BasicBlock block in outer.Blocks)
            {
                foreach (IOperation operation in block.Operations)
                {
                    foreach (IOperation node in operation.DescendantsAndSelf())
                    {
                        if (node is IFlowAnonymousFunctionOperation lambda && SymbolEqualityComparer.Default.Equals(lambda.Symbol, method))
                        {
                            return outer.GetAnonymousFunctionControlFlowGraph(lambda, cancellationToken);
                        }
                    }
                }
            }

            return null;
        }

        foreach (SyntaxReference reference in method.DeclaringSyntaxReferences)
        {
            switch (_models.Operation(reference, cancellationToken))
            {
                case IMethodBodyOperation body:
                    return ControlFlowGraph.Create(body, cancellationToken);
                case IConstructorBodyOperation body:
                    return ControlFlowGraph.Create(body, cancellationToken);
            }
        }

        return null;
    }

    private BodyFacts Compute(IMethodSymbol method, ControlFlowGraph graph, CancellationToken cancellationToken)
    {
        var tracked = new Dictionary<IParameterSymbol, int>(SymbolEqualityComparer.Default);
        BodyWrites? writes = null;
        foreach (IParameterSymbol parameter in method.Parameters)
        {
            if (IsTracked(parameter))
            {
                writes ??= _assigned.ForRoot(graph.OriginalOperation, cancellationToken);
                if (writes is null || writes.Of(parameter).Count == 0)
                {
                    tracked.Add(parameter, parameter.Ordinal);
                }
            }
        }

        ImmutableArray<BasicBlock> blocks = graph.Blocks;
        var entry = new Facts?[blocks.Length];
        var queue = new Queue<int>();
        var handlers = new Dictionary<int, List<int>>();
        for (int i = 0; i < blocks.Length; i++)
        {
            if (blocks[i].Kind == BasicBlockKind.Entry)
            {
                entry[i] = Facts.None;
                queue.Enqueue(i);
            }
            else if (blocks[i].IsReachable && blocks[i].Predecessors.IsEmpty)
            {
                // A catch or finally handler, entered by exceptional flow from anywhere in its try: it starts with what
                // held when the try was entered, less the completed tasks whose variable the body writes.
                if (TryEntryOf(blocks[i]) is int tryEntry)
                {
                    if (!handlers.TryGetValue(tryEntry, out List<int>? list))
                    {
                        list = new List<int>();
                        handlers.Add(tryEntry, list);
                    }

                    list.Add(i);
                }
                else
                {
                    entry[i] = Facts.None;
                    queue.Enqueue(i);
                }
            }
        }

        var at = new Dictionary<SyntaxNode, Facts>();
        int budget = blocks.Length * 16;
        while (queue.Count > 0 && budget-- > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            BasicBlock block = blocks[queue.Dequeue()];
            Facts state = entry[block.Ordinal]!;
            if (handlers.TryGetValue(block.Ordinal, out List<int>? handled))
            {
                writes ??= _assigned.ForRoot(graph.OriginalOperation, cancellationToken);
                foreach (int handler in handled)
                {
                    Reach(handler, state.KeepCompleted(task => writes is not null && writes.Of(task).Count == 0));
                }
            }

            foreach (IOperation operation in block.Operations)
            {
                state = Effects(operation, state);
            }

            if (block.ConditionKind != ControlFlowConditionKind.None && block.BranchValue is { } condition)
            {
                bool jumpsWhen = block.ConditionKind == ControlFlowConditionKind.WhenTrue;
                Flow(block.ConditionalSuccessor, Implied(condition, jumpsWhen, state, tracked, 0, cancellationToken));
                Flow(block.FallThroughSuccessor, Implied(condition, !jumpsWhen, state, tracked, 0, cancellationToken));
            }
            else
            {
                Flow(block.FallThroughSuccessor, state);
            }
        }

        // Record each operation's facts: its block's entry facts, updated by the operations before it in the block.
        foreach (BasicBlock block in blocks)
        {
            Facts state = entry[block.Ordinal] ?? Facts.Dead;
            foreach (IOperation operation in block.Operations)
            {
                Record(at, operation, state);
                state = state.IsDead ? state : Effects(operation, state);
            }

            if (block.BranchValue is { } branch)
            {
                Record(at, branch, state);
            }
        }

        return new BodyFacts(at);

        void Flow(ControlFlowBranch? branch, Facts facts)
        {
            if (branch?.Destination is { } destination && !facts.IsDead)
            {
                Reach(destination.Ordinal, facts);
            }
        }

        void Reach(int ordinal, Facts facts)
        {
            Facts? old = entry[ordinal];
            Facts merged = old is null ? facts : old.Meet(facts);
            if (old is null || !merged.SameAs(old))
            {
                entry[ordinal] = merged;
                queue.Enqueue(ordinal);
            }
        }
    }

    /// <summary>For the first block of a catch or finally handler: the first block of its try region.</summary>
    private static int? TryEntryOf(BasicBlock block)
    {
        for (ControlFlowRegion? region = block.EnclosingRegion; region is not null && region.FirstBlockOrdinal == block.Ordinal; region = region.EnclosingRegion)
        {
            if (region.Kind is ControlFlowRegionKind.Finally or ControlFlowRegionKind.Catch or ControlFlowRegionKind.Filter or ControlFlowRegionKind.FilterAndHandler &&
                region.EnclosingRegion is { } protectedRegion)
            {
                foreach (ControlFlowRegion nested in protectedRegion.NestedRegions)
                {
                    if (nested.Kind == ControlFlowRegionKind.Try)
                    {
                        return nested.FirstBlockOrdinal;
                    }
                }

                return null;
            }
        }

        return null;
    }

    /// <summary>Whether the facts follow a parameter's value: a bool (its value), an array (whether it is empty).</summary>
    public static bool IsTracked(IParameterSymbol parameter) =>
        parameter.RefKind == RefKind.None && (parameter.Type.SpecialType == SpecialType.System_Boolean || parameter.Type.TypeKind == TypeKind.Array);

    private static void Record(Dictionary<SyntaxNode, Facts> at, IOperation operation, Facts facts)
    {
        foreach (IOperation node in Descendants(operation))
        {
            at[node.Syntax] = at.TryGetValue(node.Syntax, out Facts? known) ? known.Meet(facts) : facts;
        }
    }

    private static IEnumerable<IOperation> Descendants(IOperation operation)
    {
        var stack = new Stack<IOperation>();
        stack.Push(operation);
        while (stack.Count > 0)
        {
            IOperation current = stack.Pop();
            yield return current;
            if (current is IFlowAnonymousFunctionOperation)
            {
                continue;
            }

            foreach (IOperation child in current.ChildOperations)
            {
                stack.Push(child);
            }
        }
    }

    /// <summary>What an operation of a block changes: an awaited task has completed; a written task variable is forgotten.</summary>
    private static Facts Effects(IOperation operation, Facts facts)
    {
        if (facts.Completed.IsEmpty && !HasAwait(operation))
        {
            return facts;
        }

        foreach (IOperation node in Descendants(operation))
        {
            switch (node)
            {
                case ISimpleAssignmentOperation assignment when TaskKey(assignment.Target) is { } written:
                    facts = facts.Without(written);
                    break;
                case IArgumentOperation { Parameter.RefKind: RefKind.Ref or RefKind.Out } byReference when TaskKey(byReference.Value) is { } written:
                    facts = facts.Without(written);
                    break;
            }
        }

        foreach (IOperation node in Descendants(operation))
        {
            if (node is IAwaitOperation awaited && TaskKey(awaited.Operation) is { } task)
            {
                facts = facts.WithCompleted(task);
            }
        }

        return facts;
    }

    private static bool HasAwait(IOperation operation)
    {
        foreach (IOperation node in Descendants(operation))
        {
            if (node is IAwaitOperation)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The facts that hold where <paramref name="condition"/> evaluated to <paramref name="value"/>.</summary>
    private Facts Implied(IOperation condition, bool value, Facts facts, Dictionary<IParameterSymbol, int> tracked, int depth, CancellationToken cancellationToken)
    {
        switch (condition)
        {
            case IUnaryOperation { OperatorKind: UnaryOperatorKind.Not, OperatorMethod: null } not:
                return Implied(not.Operand, !value, facts, tracked, depth, cancellationToken);
            case IConversionOperation { OperatorMethod: null } conversion:
                return Implied(conversion.Operand, value, facts, tracked, depth, cancellationToken);
            case IParameterReferenceOperation parameter when parameter.Type?.SpecialType == SpecialType.System_Boolean && tracked.TryGetValue(parameter.Parameter, out int ordinal):
                return facts.WithBool(ordinal, value);
            case IBinaryOperation { OperatorMethod: null } comparison when ArrayLengthTest(comparison, tracked) is (int array, bool whenTrue):
                // `converters.Length > 0` (or != 0, >= 1, and == 0 false): the array parameter is not empty.
                return value == whenTrue ? facts.WithNonEmpty(array) : facts;
            case IBinaryOperation { OperatorKind: BinaryOperatorKind.Equals or BinaryOperatorKind.NotEquals, OperatorMethod: null } binary:
                {
                    bool equals = binary.OperatorKind == BinaryOperatorKind.Equals ? value : !value;
                    if (BoolConstant(binary.RightOperand) is bool right)
                    {
                        return Implied(binary.LeftOperand, equals ? right : !right, facts, tracked, depth, cancellationToken);
                    }

                    if (BoolConstant(binary.LeftOperand) is bool left)
                    {
                        return Implied(binary.RightOperand, equals ? left : !left, facts, tracked, depth, cancellationToken);
                    }

                    // task.Status == TaskStatus.RanToCompletion (or Faulted, Canceled): the task has completed.
                    if (equals && (IsFinalStatus(binary.RightOperand) ? binary.LeftOperand : IsFinalStatus(binary.LeftOperand) ? binary.RightOperand : null) is IPropertyReferenceOperation { Property.Name: "Status" } status &&
                        IsTaskType(status.Property.ContainingType) && TaskKey(status.Instance) is { } statusTask)
                    {
                        return facts.WithCompleted(statusTask);
                    }

                    return facts;
                }

            case IPropertyReferenceOperation { Property.Name: "IsCompleted" or "IsCompletedSuccessfully" or "IsFaulted" or "IsCanceled" } property
                when value && IsTaskType(property.Property.ContainingType) && TaskKey(property.Instance) is { } task:
                return facts.WithCompleted(task);
            case IInvocationOperation invocation when value && depth < MaxPredicateDepth:
                {
                    foreach (int ordinal in CompletionPredicate(invocation.TargetMethod, depth, cancellationToken))
                    {
                        foreach (IArgumentOperation argument in invocation.Arguments)
                        {
                            if (argument.Parameter?.Ordinal == ordinal && TaskKey(argument.Value) is { } completed)
                            {
                                facts = facts.WithCompleted(completed);
                            }
                        }
                    }

                    return facts;
                }

            default:
                return facts;
        }
    }

    /// <summary>
    /// For a method of the compilation that returns whether a task parameter has completed (an extension
    /// <c>IsCompletedSuccessfully(this Task)</c> over <c>task.Status == RanToCompletion</c>): the ordinals of the
    /// parameters that have completed when it returns true.
    /// </summary>
    private ImmutableArray<int> CompletionPredicate(IMethodSymbol method, int depth, CancellationToken cancellationToken)
    {
        IMethodSymbol definition = (method.ReducedFrom ?? method).OriginalDefinition;
        if (definition.ReturnType.SpecialType != SpecialType.System_Boolean || definition.Parameters.IsEmpty || definition.DeclaringSyntaxReferences.IsEmpty)
        {
            return ImmutableArray<int>.Empty;
        }

        return _predicates.GetOrAdd(definition, d => ComputePredicate(d, depth, cancellationToken));
    }

    private ImmutableArray<int> ComputePredicate(IMethodSymbol method, int depth, CancellationToken cancellationToken)
    {
        IOperation? returned = null;
        foreach (SyntaxReference reference in method.DeclaringSyntaxReferences)
        {
            if (_models.Operation(reference, cancellationToken) is IMethodBodyOperation body)
            {
                IBlockOperation? block = body.BlockBody ?? body.ExpressionBody;
                if (block is { Operations.Length: 1 } && block.Operations[0] is IReturnOperation { ReturnedValue: { } value })
                {
                    returned = value;
                }
            }
        }

        if (returned is null)
        {
            return ImmutableArray<int>.Empty;
        }

        Facts implied = Implied(returned, true, Facts.None, new Dictionary<IParameterSymbol, int>(SymbolEqualityComparer.Default), depth + 1, cancellationToken);
        return implied.Completed.OfType<IParameterSymbol>().Select(p => p.Ordinal).ToImmutableArray();
    }

    /// <summary>For <c>p.Length &gt; 0</c> and the like over a tracked array parameter: its ordinal, and the value of the test that says it is not empty.</summary>
    private static (int Parameter, bool WhenTrue)? ArrayLengthTest(IBinaryOperation comparison, Dictionary<IParameterSymbol, int> tracked)
    {
        bool lengthOnLeft = IsLength(comparison.LeftOperand, tracked, out int parameter);
        if (!lengthOnLeft && !IsLength(comparison.RightOperand, tracked, out parameter))
        {
            return null;
        }

        if ((lengthOnLeft ? comparison.RightOperand : comparison.LeftOperand).ConstantValue is not { HasValue: true, Value: int constant })
        {
            return null;
        }

        BinaryOperatorKind kind = comparison.OperatorKind;
        if (!lengthOnLeft)
        {
            // 0 < p.Length is p.Length > 0.
            kind = kind switch
            {
                BinaryOperatorKind.LessThan => BinaryOperatorKind.GreaterThan,
                BinaryOperatorKind.LessThanOrEqual => BinaryOperatorKind.GreaterThanOrEqual,
                BinaryOperatorKind.GreaterThan => BinaryOperatorKind.LessThan,
                BinaryOperatorKind.GreaterThanOrEqual => BinaryOperatorKind.LessThanOrEqual,
                _ => kind,
            };
        }

        return (kind, constant) switch
        {
            (BinaryOperatorKind.GreaterThan, >= 0) => (parameter, true),
            (BinaryOperatorKind.GreaterThanOrEqual, >= 1) => (parameter, true),
            (BinaryOperatorKind.NotEquals, 0) => (parameter, true),
            (BinaryOperatorKind.Equals, 0) => (parameter, false),
            _ => null,
        };
    }

    private static bool IsLength(IOperation operation, Dictionary<IParameterSymbol, int> tracked, out int parameter)
    {
        parameter = -1;
        return operation is IPropertyReferenceOperation { Property.Name: "Length", Instance: IParameterReferenceOperation { Type.TypeKind: TypeKind.Array } array } &&
            tracked.TryGetValue(array.Parameter, out parameter);
    }

    private static bool? BoolConstant(IOperation operation) =>
        operation.ConstantValue is { HasValue: true, Value: bool constant } ? constant : null;

    private static bool IsFinalStatus(IOperation operation) =>
        operation.Type is { Name: "TaskStatus" } && operation.ConstantValue is { HasValue: true, Value: int status } && status is 5 or 6 or 7;

    /// <summary>Task, Task&lt;T&gt;, ValueTask, ValueTask&lt;T&gt; of System.Threading.Tasks.</summary>
    public static bool IsTaskType(INamedTypeSymbol? type) =>
        type is { Name: "Task" or "ValueTask", ContainingNamespace: { Name: "Tasks", ContainingNamespace: { Name: "Threading", ContainingNamespace: { Name: "System", ContainingNamespace.IsGlobalNamespace: true } } } };
}
