// Flow-insensitive facts about one body, gathered in one walk before the dataflow runs (locals written once, loop
// counters, captures, buffers made); the engine only reads them.
using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace DmaBuf.Analyzers.Engine;

/// <summary>
/// Flow-insensitive facts about one body, gathered in one walk before the dataflow runs: which locals are written once
/// (and with what), loop counters with a known interval, which parameters, locals and members are written or captured
/// by a nested lambda or local function, which buffers the body begins CPU access on, and the values of flow captures.
/// </summary>
internal sealed class BodyFacts
{
    private readonly Dictionary<ISymbol, int> _writes = new(SymbolEqualityComparer.Default);
    private readonly Dictionary<ISymbol, int> _nullWrites = new(SymbolEqualityComparer.Default);
    private readonly HashSet<ISymbol> _writtenInLoop = new(SymbolEqualityComparer.Default);
    private IOperation? _root;
    private readonly Dictionary<ISymbol, IOperation> _singleValue = new(SymbolEqualityComparer.Default);
    private readonly Dictionary<ISymbol, LoopBounds> _loopCounters = new(SymbolEqualityComparer.Default);
    private readonly HashSet<ISymbol> _writtenMembers = new(SymbolEqualityComparer.Default);
    private readonly HashSet<ISymbol> _captured = new(SymbolEqualityComparer.Default);
    private readonly HashSet<ISymbol> _capturedMembers = new(SymbolEqualityComparer.Default);
    private readonly HashSet<BufferKey> _managed = new();
    private readonly HashSet<SyntaxNode> _unmapLoops = new();
    private readonly Dictionary<CaptureId, List<IOperation>> _captures = new();
    private readonly KnownSymbols _symbols;
    private readonly Func<IInvocationOperation, bool>? _createsReference;
    private readonly Func<IInvocationOperation, IOperation?>? _returnedArgument;
    private readonly ISymbol? _self;
    private int _depth;

    public BodyFacts(ControlFlowGraph cfg, KnownSymbols symbols, IMethodSymbol? method, bool closesCpuAccess, CancellationToken cancellationToken, Func<IInvocationOperation, bool>? createsReference = null, Func<IInvocationOperation, IOperation?>? returnedArgument = null)
    {
        _symbols = symbols;
        _createsReference = createsReference;
        _returnedArgument = returnedArgument;
        IOperation root = cfg.OriginalOperation;
        ISymbol? self = root switch
        {
            IAnonymousFunctionOperation lambda => lambda.Symbol,
            ILocalFunctionOperation local => local.Symbol,
            _ => method is { MethodKind: MethodKind.AnonymousFunction or MethodKind.LocalFunction } ? method : null,
        };

        _self = self;
        _root = root;
        var begins = new List<IInvocationOperation>();
        var creations = new List<ILocalSymbol>();
        Walk(root, self, begins, creations, cancellationToken);

        foreach (BasicBlock block in cfg.Blocks)
        {
            foreach (IOperation op in block.Operations)
            {
                CollectCaptures(op);
            }

            if (block.BranchValue is not null)
            {
                CollectCaptures(block.BranchValue);
            }
        }

        if (!closesCpuAccess)
        {
            foreach (IInvocationOperation begin in begins)
            {
                if (KeyOf(begin.Instance) is { } key)
                {
                    _managed.Add(key);
                }
            }

            // A local every write of which gives it a new reference (or null, as an error path does) holds buffers this
            // body created.
            var created = new Dictionary<ILocalSymbol, int>(SymbolEqualityComparer.Default);
            foreach (ILocalSymbol local in creations)
            {
                created.TryGetValue(local, out int count);
                created[local] = count + 1;
            }

            foreach (KeyValuePair<ILocalSymbol, int> local in created)
            {
                _writes.TryGetValue(local.Key, out int writes);
                _nullWrites.TryGetValue(local.Key, out int nulls);
                if (!local.Key.IsRef && writes == local.Value + nulls)
                {
                    _managed.Add(new BufferKey(local.Key, ImmutableArray<ISymbol>.Empty, local.Key.Name));
                }
            }
        }
    }

    /// <summary>
    /// Whether the body manages the CPU access of this buffer: it begins access on it somewhere, or it created the
    /// buffer (a local from <c>Export</c> or <c>Get</c>). Other buffers may arrive with access begun by the caller.
    /// </summary>
    public bool IsManaged(BufferKey key) => _managed.Contains(key);

    /// <summary>
    /// Whether <paramref name="header"/> (a loop's condition, or a foreach's collection) heads a loop whose body unmaps
    /// pages the body does not hold itself (the elements of a list, an array, the foreach variable).
    /// </summary>
    public bool IsUnmapLoopHeader(SyntaxNode? header) => header is not null && _unmapLoops.Contains(header);

    /// <summary>Whether a nested lambda or local function uses this local or parameter.</summary>
    public bool IsCaptured(ISymbol symbol) => _captured.Contains(symbol);

    /// <summary>The buffer a receiver expression denotes, or null when it is not one the engine can follow.</summary>
    public BufferKey? KeyOf(IOperation? operation)
    {
        if (operation is null || _depth > 8)
        {
            return null;
        }

        _depth++;
        try
        {
            return KeyOfCore(operation);
        }
        finally
        {
            _depth--;
        }
    }

    private BufferKey? KeyOfCore(IOperation operation)
    {
        operation = Unwrap(operation);
        switch (operation)
        {
            case ILocalReferenceOperation local:
                if (_captured.Contains(local.Local) || local.Local.IsRef || IsOuter(local.Local))
                {
                    return null;
                }

                // A local given a followable expression is that buffer; one given an expression that cannot be followed
                // (`fb.Obj[0].Buffer`, an element's member) still denotes the one buffer it was given, by its own name.
                if (_singleValue.TryGetValue(local.Local, out IOperation? aliased) && IsKeyExpression(aliased) && KeyOf(aliased) is { } alias)
                {
                    return alias;
                }

                // A local written once more with null (`dmabuf = null;` on an error path) still denotes one buffer; the
                // engine forgets what it knew of the variable's buffer at each write (FlowEngine.Rebound). A local given
                // several buffers, or one in a loop, denotes none the analysis can name.
                return IsStableLocal(local.Local) || IsSingleBufferLocal(local.Local) ? new BufferKey(local.Local, ImmutableArray<ISymbol>.Empty, local.Local.Name) : null;
            case IParameterReferenceOperation parameter:
                if (_captured.Contains(parameter.Parameter) || _writes.ContainsKey(parameter.Parameter) || parameter.Parameter.RefKind is RefKind.Ref or RefKind.Out || IsOuter(parameter.Parameter))
                {
                    return null;
                }

                return new BufferKey(parameter.Parameter, ImmutableArray<ISymbol>.Empty, parameter.Parameter.Name);
            case IInstanceReferenceOperation:
                return new BufferKey(null, ImmutableArray<ISymbol>.Empty, "this");
            case IFieldReferenceOperation field:
                return MemberKey(field, field.Field, field.Instance);
            case IPropertyReferenceOperation property when property.Arguments.Length == 0:
                return MemberKey(property, property.Property, property.Instance);
            case IFlowCaptureReferenceOperation capture:
                return _captures.TryGetValue(capture.Id, out List<IOperation>? values) && values.Count == 1 ? KeyOf(values[0]) : null;
            case IInvocationOperation call when _returnedArgument?.Invoke(call) is { } argument:
                // `buf.Reading().PageByte(0)`: a call that returns its argument as it came denotes that buffer.
                return KeyOf(argument);
            default:
                return null;
        }
    }

    private BufferKey? MemberKey(IOperation reference, ISymbol member, IOperation? instance)
    {
        if (_writtenMembers.Contains(member))
        {
            return null;
        }

        string display = reference.Syntax.ToString();
        if (member.IsStatic)
        {
            return new BufferKey(null, ImmutableArray.Create(member), display);
        }

        BufferKey? parent = KeyOf(instance);
        if (parent is null)
        {
            return null;
        }

        if (parent.Root is null && parent.Members.Length == 0 && _capturedMembers.Contains(member))
        {
            return null;
        }

        return parent.Append(member, display);
    }

    private bool IsKeyExpression(IOperation operation) =>
        Unwrap(operation) is ILocalReferenceOperation or IParameterReferenceOperation or IFieldReferenceOperation or IPropertyReferenceOperation or IInstanceReferenceOperation ||
        Unwrap(operation) is IInvocationOperation call && _returnedArgument?.Invoke(call) is not null;

    /// <summary>Whether a by-value parameter is never written nor captured in the body.</summary>
    public bool IsUnwrittenParameter(IParameterSymbol parameter) =>
        parameter.RefKind == RefKind.None && !_writes.ContainsKey(parameter) && !_captured.Contains(parameter) && !IsOuter(parameter);

    /// <summary>Whether a local is given one value that is not null, outside any loop, and null otherwise.</summary>
    private bool IsSingleBufferLocal(ILocalSymbol local) =>
        !local.IsRef && _writes.TryGetValue(local, out int writes) && writes - (_nullWrites.TryGetValue(local, out int nulls) ? nulls : 0) <= 1 && !_writtenInLoop.Contains(local);

    /// <summary>Whether a local is written exactly once (its declaration or one assignment) and never by reference.</summary>
    public bool IsStableLocal(ILocalSymbol local) => !local.IsRef && _writes.TryGetValue(local, out int count) && count == 1;

    /// <summary>The one value a local is given, when it is written exactly once.</summary>
    public IOperation? SingleValue(ISymbol local) => _singleValue.TryGetValue(local, out IOperation? value) ? value : null;

    /// <summary>The first value and the bound of a simple <c>for</c> loop counter, written nowhere but in its loop header.</summary>
    public LoopBounds? LoopCounter(ISymbol local) =>
        _loopCounters.TryGetValue(local, out LoopBounds bounds) && _writes.TryGetValue(local, out int count) && count == 2 ? bounds : null;

    /// <summary>Every value captured under this id (more than one for a conditional expression).</summary>
    public IReadOnlyList<IOperation>? CaptureValues(CaptureId id) => _captures.TryGetValue(id, out List<IOperation>? values) ? values : null;

    public static IOperation Unwrap(IOperation operation)
    {
        while (operation is IConversionOperation { IsImplicit: true } conversion)
        {
            operation = conversion.Operand;
        }

        return operation;
    }

    private void CollectCaptures(IOperation root)
    {
        foreach (IOperation op in root.DescendantsAndSelf())
        {
            if (op is IFlowCaptureOperation capture)
            {
                if (!_captures.TryGetValue(capture.Id, out List<IOperation>? list))
                {
                    list = new List<IOperation>();
                    _captures.Add(capture.Id, list);
                }

                list.Add(capture.Value);
            }
        }
    }

    private void Walk(IOperation root, ISymbol? self, List<IInvocationOperation> begins, List<ILocalSymbol> creations, CancellationToken cancellationToken)
    {
        var stack = new Stack<(IOperation Op, ISymbol? Nested)>();
        stack.Push((root, null));
        while (stack.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            (IOperation op, ISymbol? nested) = stack.Pop();
            ISymbol? innerNested = nested;
            if (!ReferenceEquals(op, root))
            {
                if (op is IAnonymousFunctionOperation lambda && nested is null && !SymbolEqualityComparer.Default.Equals(lambda.Symbol, self))
                {
                    innerNested = lambda.Symbol;
                }
                else if (op is ILocalFunctionOperation localFunction && nested is null && !SymbolEqualityComparer.Default.Equals(localFunction.Symbol, self))
                {
                    innerNested = localFunction.Symbol;
                }
            }

            Visit(op, innerNested, begins, creations);
            foreach (IOperation child in op.ChildOperations)
            {
                stack.Push((child, innerNested));
            }
        }
    }

    private void Visit(IOperation op, ISymbol? nested, List<IInvocationOperation> begins, List<ILocalSymbol> creations)
    {
        switch (op)
        {
            case IVariableDeclaratorOperation declarator:
                if (declarator.GetVariableInitializer() is { } initializer)
                {
                    AddWrite(declarator.Symbol, initializer.Value);
                    if (nested is null && Unwrap(initializer.Value) is IInvocationOperation created && Creates(created))
                    {
                        creations.Add(declarator.Symbol);
                    }
                }

                break;
            case ISimpleAssignmentOperation assignment:
                NoteTarget(assignment.Target, assignment.Value);
                if (nested is null && Unwrap(assignment.Target) is ILocalReferenceOperation target && Unwrap(assignment.Value) is IInvocationOperation made && Creates(made))
                {
                    creations.Add(target.Local);
                }

                break;
            case ICompoundAssignmentOperation compound:
                NoteTarget(compound.Target, null);
                break;
            case ICoalesceAssignmentOperation coalesce:
                NoteTarget(coalesce.Target, null);
                break;
            case IIncrementOrDecrementOperation increment:
                NoteTarget(increment.Target, null);
                break;
            case IDeconstructionAssignmentOperation deconstruction:
                foreach ((IOperation part, IOperation? value) in Deconstruct(deconstruction))
                {
                    NoteTarget(part, value);
                }

                break;
            case IArgumentOperation { Parameter: { RefKind: RefKind.Ref or RefKind.Out } } argument:
                NoteTarget(argument.Value, null);
                break;
            case IAddressOfOperation addressOf:
                NoteTarget(addressOf.Reference, null);
                break;
            case IDeclarationExpressionOperation declaration:
                NoteTarget(declaration.Expression, null);
                break;
            case IForLoopOperation loop:
                NoteLoop(loop);
                NoteUnmapLoop(loop, loop.Condition);
                break;
            case IForEachLoopOperation forEach:
                NoteUnmapLoop(forEach, forEach.Collection);
                break;
            case IWhileLoopOperation whileLoop:
                NoteUnmapLoop(whileLoop, whileLoop.Condition);
                break;
            case IInvocationOperation invocation when nested is null:
                if (_symbols.IsBegin(invocation.TargetMethod) || _symbols.IsScope(invocation.TargetMethod))
                {
                    begins.Add(invocation);
                }

                break;
            case ILocalReferenceOperation local when nested is not null:
                if (!IsDeclaredWithin(local.Local.ContainingSymbol, nested))
                {
                    _captured.Add(local.Local);
                }

                break;
            case IParameterReferenceOperation parameter when nested is not null:
                if (!IsDeclaredWithin(parameter.Parameter.ContainingSymbol, nested))
                {
                    _captured.Add(parameter.Parameter);
                }

                break;
            case IFieldReferenceOperation { Instance: IInstanceReferenceOperation } field when nested is not null:
                _capturedMembers.Add(field.Field);
                break;
            case IPropertyReferenceOperation { Instance: IInstanceReferenceOperation } property when nested is not null:
                _capturedMembers.Add(property.Property);
                break;
        }
    }

    /// <summary>
    /// The variables a deconstruction writes, each with the element it is given when the value is a tuple literal of the
    /// same shape (<c>var (lo, hi) = (a, b);</c>), or with null when the value is not known element by element.
    /// </summary>
    public static IEnumerable<(IOperation Target, IOperation? Value)> Deconstruct(IDeconstructionAssignmentOperation deconstruction)
    {
        IOperation target = deconstruction.Target is IDeclarationExpressionOperation declaration ? declaration.Expression : deconstruction.Target;
        if (target is ITupleOperation targets && Unwrap(deconstruction.Value) is ITupleOperation values && targets.Elements.Length == values.Elements.Length)
        {
            for (int i = 0; i < targets.Elements.Length; i++)
            {
                yield return (targets.Elements[i], values.Elements[i]);
            }

            yield break;
        }

        foreach (IOperation part in deconstruction.Target.DescendantsAndSelf())
        {
            yield return (part, null);
        }
    }

    /// <summary>A call that gives the body a new reference: Export, Get, or a method of the compilation that returns one.</summary>
    private bool Creates(IInvocationOperation call) =>
        KnownSymbols.IsSame(call.TargetMethod, _symbols.Export) || KnownSymbols.IsSame(call.TargetMethod, _symbols.Get) || _createsReference?.Invoke(call) == true;

    /// <summary>In a lambda or local function: a variable of the enclosing method, which that method may begin or end around the call.</summary>
    public bool IsOuter(ISymbol symbol) => _self is not null && !IsDeclaredWithin(symbol.ContainingSymbol, _self);

    private static bool IsDeclaredWithin(ISymbol? container, ISymbol nested)
    {
        for (ISymbol? current = container; current is not null; current = current.ContainingSymbol)
        {
            if (SymbolEqualityComparer.Default.Equals(current, nested))
            {
                return true;
            }

            if (current is INamedTypeSymbol)
            {
                return false;
            }
        }

        return false;
    }

    private void NoteTarget(IOperation target, IOperation? value)
    {
        switch (Unwrap(target))
        {
            case ILocalReferenceOperation local:
                AddWrite(local.Local, value);
                if (InLoop(target))
                {
                    _writtenInLoop.Add(local.Local);
                }

                break;
            case IParameterReferenceOperation parameter:
                AddWrite(parameter.Parameter, null);
                break;
            case IFieldReferenceOperation field:
                _writtenMembers.Add(field.Field);
                break;
            case IPropertyReferenceOperation property:
                _writtenMembers.Add(property.Property);
                break;
        }
    }

    private bool InLoop(IOperation operation)
    {
        for (IOperation? parent = operation.Parent; parent is not null && !ReferenceEquals(parent, _root); parent = parent.Parent)
        {
            if (parent is ILoopOperation)
            {
                return true;
            }
        }

        return false;
    }

    private void AddWrite(ISymbol symbol, IOperation? value)
    {
        _writes.TryGetValue(symbol, out int count);
        _writes[symbol] = count + 1;
        if (value is { ConstantValue: { HasValue: true, Value: null } })
        {
            _nullWrites.TryGetValue(symbol, out int nulls);
            _nullWrites[symbol] = nulls + 1;
        }

        if (count == 0 && value is not null)
        {
            _singleValue[symbol] = value;
        }
        else
        {
            _singleValue.Remove(symbol);
        }
    }

    private void NoteUnmapLoop(ILoopOperation loop, IOperation? header)
    {
        if (header is null)
        {
            return;
        }

        foreach (IOperation op in loop.Body.DescendantsAndSelf())
        {
            if (op is not IInvocationOperation call)
            {
                continue;
            }

            IOperation? page = KnownSymbols.IsSame(call.TargetMethod, _symbols.DmaBufPageDispose) || (call.TargetMethod.Name == "Dispose" && call.Arguments.Length == 0 && IsPageOperand(call.Instance))
                ? call.Instance
                : (KnownSymbols.IsSame(call.TargetMethod, _symbols.Kunmap) || KnownSymbols.IsSame(call.TargetMethod, _symbols.KunmapAtomic)) && call.Arguments.Length > 1 ? call.Arguments[1].Value : null;
            if (page is not null && IsPageOperand(page) && Unwrap(page is IConversionOperation c ? c.Operand : page) is IArrayElementReferenceOperation or IPropertyReferenceOperation { Property.IsIndexer: true } or IFieldReferenceOperation or ILocalReferenceOperation { Local.IsForEach: true } or IInvocationOperation)
            {
                _unmapLoops.Add(header.Syntax);
                return;
            }
        }
    }

    private bool IsPageOperand(IOperation? operation)
    {
        IOperation? unwrapped = operation is IConversionOperation conversion ? conversion.Operand : operation;
        return unwrapped is not null && SymbolEqualityComparer.Default.Equals(unwrapped.Type, _symbols.DmaBufPage);
    }

    private void NoteLoop(IForLoopOperation loop)
    {
        // for (long p = first; p < bound; p++) or p <= bound, with p written nowhere else: p takes first..bound-1 (or
        // bound) in the body. The two ends are expressions, folded when the counter is read (ValueEvaluator).
        if (loop.Before.Length != 1 || loop.Before[0] is not IVariableDeclarationGroupOperation group || group.Declarations.Length != 1 ||
            group.Declarations[0].Declarators.Length != 1)
        {
            return;
        }

        IVariableDeclaratorOperation declarator = group.Declarations[0].Declarators[0];
        if (declarator.GetVariableInitializer()?.Value is not { } initial)
        {
            return;
        }

        if (loop.Condition is not IBinaryOperation condition || Unwrap(condition.LeftOperand) is not ILocalReferenceOperation counter ||
            !SymbolEqualityComparer.Default.Equals(counter.Local, declarator.Symbol) ||
            condition.OperatorKind is not (BinaryOperatorKind.LessThan or BinaryOperatorKind.LessThanOrEqual))
        {
            return;
        }

        if (loop.AtLoopBottom.Length != 1 || loop.AtLoopBottom[0] is not IExpressionStatementOperation { Operation: var stepOperation } || StepOf(stepOperation, declarator.Symbol) is not long step || step <= 0)
        {
            return;
        }

        _loopCounters[declarator.Symbol] = new LoopBounds(initial, condition.RightOperand, condition.OperatorKind == BinaryOperatorKind.LessThanOrEqual, step);
    }

    /// <summary>The constant a loop's step adds to its counter (`p++`, `p += 2`), or null.</summary>
    private static long? StepOf(IOperation step, ISymbol counter) => step switch
    {
        IIncrementOrDecrementOperation { Kind: OperationKind.Increment } increment when Unwrap(increment.Target) is ILocalReferenceOperation local && SymbolEqualityComparer.Default.Equals(local.Local, counter) => 1,
        ICompoundAssignmentOperation { OperatorKind: BinaryOperatorKind.Add, Value.ConstantValue: { HasValue: true } constant } compound
            when Unwrap(compound.Target) is ILocalReferenceOperation local && SymbolEqualityComparer.Default.Equals(local.Local, counter) && TryLong(constant.Value, out long value) => value,
        _ => null,
    };

    public static bool TryLong(object? value, out long result)
    {
        switch (value)
        {
            case int i:
                result = i;
                return true;
            case long l:
                result = l;
                return true;
            case short s:
                result = s;
                return true;
            case byte b:
                result = b;
                return true;
            case uint u:
                result = u;
                return true;
            case ushort us:
                result = us;
                return true;
            case sbyte sb:
                result = sb;
                return true;
            case ulong ul when ul <= long.MaxValue:
                result = (long)ul;
                return true;
            default:
                result = 0;
                return false;
        }
    }
}

/// <summary>The ends of a simple <c>for</c> loop counter: its first value and its bound, inclusive or not.</summary>
internal readonly struct LoopBounds
{
    public LoopBounds(IOperation first, IOperation bound, bool inclusive, long step)
    {
        First = first;
        Bound = bound;
        Inclusive = inclusive;
        Step = step;
    }

    /// <summary>What each iteration adds to the counter (positive).</summary>
    public long Step { get; }

    public IOperation First { get; }

    public IOperation Bound { get; }

    public bool Inclusive { get; }
}
