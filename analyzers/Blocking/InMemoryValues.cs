// Whether a stream, reader or writer value is in memory (so its I/O cannot block), followed through locals, fields and
// parameters.
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace DmaBuf.Analyzers.Blocking;

// Whether the stream, reader or writer a value refers to is an in-memory one (StringWriter, StringReader,
// MemoryStream), on every path: `new StringWriter(sb)`, a local only ever given such values, or a readonly field that
// every constructor fills with one. Where it depends on what the caller passes (a parameter, a field filled from a
// constructor parameter), the answer is a literal on the caller's inputs, decided at each call. Bounded: field paths of
// at most Literal.MaxFields fields, and at most MaxDepth steps through locals, constructors and fields.

/// <summary>What a value is, as far as blocking I/O on it goes.</summary>
internal enum ValueVerdict
{
    /// <summary>In memory, or null: I/O on it never blocks.</summary>
    NoBlock,

    /// <summary>Anything else, or not known: I/O on it may block.</summary>
    Blocks,

    /// <summary>It depends on an input of the method: see the literal.</summary>
    Depends,
}

/// <summary>A <see cref="ValueVerdict"/>, with the literal it depends on.</summary>
internal readonly struct ValueResult
{
    private ValueResult(ValueVerdict verdict, Literal? literal)
    {
        Verdict = verdict;
        Literal = literal;
    }

    public static ValueResult NoBlock { get; } = new(ValueVerdict.NoBlock, null);

    public static ValueResult Blocks { get; } = new(ValueVerdict.Blocks, null);

    public ValueVerdict Verdict { get; }

    /// <summary>With <see cref="ValueVerdict.Depends"/>: the literal (null inside a constructor whose arguments are not known).</summary>
    public Literal? Literal { get; }

    public static ValueResult DependsOn(Literal? literal) => new(ValueVerdict.Depends, literal);

    /// <summary>The value is one of several: it blocks if any of them does; it depends on one input at the most.</summary>
    public static ValueResult Either(ValueResult a, ValueResult b)
    {
        if (a.Verdict == ValueVerdict.Blocks || b.Verdict == ValueVerdict.Blocks)
        {
            return Blocks;
        }

        if (a.Verdict == ValueVerdict.NoBlock)
        {
            return b;
        }

        if (b.Verdict == ValueVerdict.NoBlock)
        {
            return a;
        }

        return Equals(a.Literal, b.Literal) ? a : Blocks;
    }
}

/// <summary>Evaluates values for <see cref="ValueResult"/>; thread-safe.</summary>
internal sealed class InMemoryValues
{
    private const int MaxDepth = 10;

    private readonly BlockingCallTable _table;
    private readonly SemanticModels _models;
    private readonly AssignedValues _assigned;

    public InMemoryValues(BlockingCallTable table, SemanticModels models, AssignedValues assigned)
    {
        _table = table;
        _models = models;
        _assigned = assigned;
    }

    /// <summary>
    /// Whether the object at <paramref name="value"/>.<paramref name="path"/> is in memory, evaluated in the body of
    /// <paramref name="method"/>, whose parameters (and receiver) become literals.
    /// </summary>
    public ValueResult Evaluate(IOperation? value, ImmutableArray<IFieldSymbol> path, IMethodSymbol? method, CancellationToken cancellationToken) =>
        value is null ? ValueResult.Blocks : Evaluate(value, path, new Frame(method, null, default), 0, cancellationToken);

    /// <summary>The run-time type of the object <paramref name="value"/> refers to, when every path gives it the same one (a <c>new</c>, a local given only that).</summary>
    public ITypeSymbol? ExactType(IOperation? value, CancellationToken cancellationToken, int depth = 0)
    {
        value = Strip(value);
        switch (value)
        {
            case IObjectCreationOperation creation:
                return creation.Type;
            case ILocalReferenceOperation local when depth < 3:
                {
                    IReadOnlyList<IOperation?>? values = _assigned.ForLocal(local.Local, cancellationToken)?.Of(local.Local);
                    ITypeSymbol? type = null;
                    foreach (IOperation? assigned in values ?? System.Array.Empty<IOperation?>())
                    {
                        ITypeSymbol? one = assigned is null ? null : ExactType(assigned, cancellationToken, depth + 1);
                        if (one is null || (type is not null && !SymbolEqualityComparer.Default.Equals(type, one)))
                        {
                            return null;
                        }

                        type = one;
                    }

                    return type;
                }

            case IInstanceReferenceOperation { Type: INamedTypeSymbol { IsSealed: true } type }:
                return type;
            default:
                return value?.Type is INamedTypeSymbol { IsValueType: true } valueType ? valueType : null;
        }
    }

    private ValueResult Evaluate(IOperation value, ImmutableArray<IFieldSymbol> path, Frame frame, int depth, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (depth > MaxDepth)
        {
            return ValueResult.Blocks;
        }

        if (path.IsEmpty && _table.IsInMemoryType(value.Type))
        {
            // Typed as a StringWriter (a MemoryStream...): whatever made it, it is one.
            return ValueResult.NoBlock;
        }

        IOperation? stripped = Strip(value);
        if (stripped is not null && path.Length > 0 && stripped.Type is { } staticType && path[0].ContainingType is { } owner &&
            DispatchTargets.IsInstanceOf(staticType, null, owner) == false)
        {
            // An object that cannot have that field: the way through it cannot be taken.
            return ValueResult.NoBlock;
        }

        if (stripped is not null && path.IsEmpty && _table.IsInMemoryType(stripped.Type))
        {
            return ValueResult.NoBlock;
        }

        switch (stripped)
        {
            case null:
                return ValueResult.Blocks;
            case ILiteralOperation { ConstantValue: { HasValue: true, Value: null } }:
            case IDefaultValueOperation:
                return ValueResult.NoBlock;
            case IObjectCreationOperation creation:
                return path.IsEmpty
                    ? (_table.IsInMemoryType(creation.Type) ? ValueResult.NoBlock : ValueResult.Blocks)
                    : FieldOfCreation(creation, path, frame, depth, cancellationToken);
            case IConditionalOperation { WhenFalse: { } whenFalse } conditional:
                return ValueResult.Either(Evaluate(conditional.WhenTrue, path, frame, depth + 1, cancellationToken), Evaluate(whenFalse, path, frame, depth + 1, cancellationToken));
            case ICoalesceOperation coalesce:
                return ValueResult.Either(Evaluate(coalesce.Value, path, frame, depth + 1, cancellationToken), Evaluate(coalesce.WhenNull, path, frame, depth + 1, cancellationToken));
            case IThrowOperation:
                return ValueResult.NoBlock;
            case IConditionalAccessInstanceOperation access when ConditionalAccessReceiver(access) is { } receiver:
                return Evaluate(receiver, path, frame, depth + 1, cancellationToken);
            case ILocalReferenceOperation local:
                {
                    IReadOnlyList<IOperation?>? values = _assigned.ForLocal(local.Local, cancellationToken)?.Of(local.Local);
                    if (values is null || values.Count == 0)
                    {
                        return ValueResult.Blocks;
                    }

                    ValueResult result = ValueResult.NoBlock;
                    foreach (IOperation? assigned in values)
                    {
                        result = ValueResult.Either(result, assigned is null ? ValueResult.Blocks : Evaluate(assigned, path, frame, depth + 1, cancellationToken));
                        if (result.Verdict == ValueVerdict.Blocks)
                        {
                            break;
                        }
                    }

                    return result;
                }

            case IParameterReferenceOperation parameter:
                return Parameter(parameter, path, frame, depth, cancellationToken);
            case IInstanceReferenceOperation { ReferenceKind: InstanceReferenceKind.ContainingTypeInstance }:
                return path.IsEmpty ? ValueResult.Blocks : FieldOfThis(path, frame, depth, cancellationToken);
            case IFieldReferenceOperation { Field: { IsStatic: false } field, Instance: { } instance } when path.Length < Literal.MaxFields && (field.IsReadOnly || field.DeclaredAccessibility == Accessibility.Private):
                return Evaluate(instance, path.Insert(0, field.OriginalDefinition), frame, depth + 1, cancellationToken);
            case IPropertyReferenceOperation { Property.GetMethod: { } getter, Instance: { } instance } when path.Length < Literal.MaxFields && FieldAlias(getter, cancellationToken) is { } aliased:
                // A property that only returns a field (`Encoder => _encoder ??= new Encoder(_writer)`): that field.
                return Evaluate(instance, path.Insert(0, aliased), frame, depth + 1, cancellationToken);
            default:
                return ValueResult.Blocks;
        }
    }

    /// <summary>The field of <c>this</c> that every <c>return</c> of a getter of the compilation returns, if there is one.</summary>
    private IFieldSymbol? FieldAlias(IMethodSymbol getter, CancellationToken cancellationToken)
    {
        IFieldSymbol? field = null;
        foreach (SyntaxReference reference in getter.OriginalDefinition.DeclaringSyntaxReferences)
        {
            if (_models.Operation(reference, cancellationToken) is not { } body)
            {
                continue;
            }

            foreach (IOperation operation in body.DescendantsAndSelf())
            {
                if (operation is IReturnOperation { ReturnedValue: { } returned })
                {
                    IOperation? value = Strip(returned);
                    if (value is ICoalesceAssignmentOperation { Target: IFieldReferenceOperation lazy })
                    {
                        value = lazy;
                    }

                    if (value is not IFieldReferenceOperation { Instance: IInstanceReferenceOperation, Field.IsStatic: false } reference1 ||
                        (field is not null && !SymbolEqualityComparer.Default.Equals(field, reference1.Field.OriginalDefinition)))
                    {
                        return null;
                    }

                    field = reference1.Field.OriginalDefinition;
                }
            }
        }

        return field;
    }

    private ValueResult Parameter(IParameterReferenceOperation reference, ImmutableArray<IFieldSymbol> path, Frame frame, int depth, CancellationToken cancellationToken)
    {
        IParameterSymbol parameter = reference.Parameter;
        if (frame.Method is null || !SymbolEqualityComparer.Default.Equals(parameter.ContainingSymbol?.OriginalDefinition, frame.Method.OriginalDefinition) || parameter.RefKind != RefKind.None)
        {
            // A parameter of an enclosing method captured by a lambda or local function: not an input of this one.
            return ValueResult.Blocks;
        }

        if (_assigned.ForOperation(reference, cancellationToken).Of(parameter).Count > 0)
        {
            return ValueResult.Blocks;
        }

        if (frame.Outer is not null)
        {
            // Inside a constructor run for a known `new`: the parameter is that argument, in the caller's frame.
            IOperation? argument = parameter.Ordinal < frame.Arguments.Length ? frame.Arguments[parameter.Ordinal] : null;
            return argument is null ? ValueResult.Blocks : Evaluate(argument, path, frame.Outer, depth + 1, cancellationToken);
        }

        return frame.Kind switch
        {
            FrameKind.AnyConstruction => ValueResult.DependsOn(null),
            FrameKind.Opaque => ValueResult.Blocks,
            _ => ValueResult.DependsOn(Literal.NotInMemory(parameter.Ordinal, path)),
        };
    }

    /// <summary>
    /// <c>this.f…</c> in the current frame: what the constructor of this object stores, where it is known (in a
    /// constructor, or in a member evaluated for a known <c>new</c>); elsewhere, what every constructor of the field's
    /// type may store. A private field that is not readonly also takes every value the type's other members give it.
    /// </summary>
    private ValueResult FieldOfThis(ImmutableArray<IFieldSymbol> path, Frame frame, int depth, CancellationToken cancellationToken)
    {
        IFieldSymbol field = path[0];
        ImmutableArray<IFieldSymbol> rest = path.RemoveAt(0);
        Frame? objectFrame = frame.Method is { MethodKind: MethodKind.Constructor } ? frame : frame.ObjectFrame;
        if (frame.Method is null || frame.Method.IsStatic || field.IsStatic || field.ContainingType is not { } owner || field.DeclaringSyntaxReferences.IsEmpty ||
            !(field.IsReadOnly || field.DeclaredAccessibility == Accessibility.Private))
        {
            return ValueResult.Blocks;
        }

        ValueResult result = ValueResult.NoBlock;
        if (objectFrame?.Method is { } constructor)
        {
            result = Stored(constructor, objectFrame, field, rest, depth, cancellationToken);
        }
        else
        {
            // Whatever object this is, its field was filled by one of the constructors of the field's type.
            foreach (IMethodSymbol candidate in owner.InstanceConstructors)
            {
                ValueResult stored = Stored(candidate, new Frame(candidate, null, default, FrameKind.AnyConstruction), field, rest, depth + 1, cancellationToken);
                if (stored.Verdict == ValueVerdict.Blocks)
                {
                    return ValueResult.Blocks;
                }

                if (stored.Verdict == ValueVerdict.Depends)
                {
                    result = ValueResult.DependsOn(Literal.NotInMemory(Literal.Receiver, path));
                }
            }
        }

        if (!field.IsReadOnly && result.Verdict != ValueVerdict.Blocks)
        {
            result = ValueResult.Either(result, WrittenElsewhere(field, owner, rest, objectFrame, depth, cancellationToken));
        }

        return result;
    }

    /// <summary>What the members of <paramref name="owner"/> other than its constructors write to a private field (lazy initialization, resets).</summary>
    private ValueResult WrittenElsewhere(IFieldSymbol field, INamedTypeSymbol owner, ImmutableArray<IFieldSymbol> rest, Frame? objectFrame, int depth, CancellationToken cancellationToken)
    {
        ValueResult result = ValueResult.NoBlock;
        foreach (ISymbol member in owner.GetMembers())
        {
            IEnumerable<IMethodSymbol> methods = member switch
            {
                IMethodSymbol { MethodKind: not MethodKind.Constructor } method => new[] { method },
                IPropertySymbol property => new[] { property.GetMethod, property.SetMethod }.OfType<IMethodSymbol>(),
                _ => System.Array.Empty<IMethodSymbol>(),
            };

            foreach (IMethodSymbol method in methods)
            {
                foreach (SyntaxReference reference in method.DeclaringSyntaxReferences)
                {
                    if (_models.Operation(reference, cancellationToken) is not { } body)
                    {
                        continue;
                    }

                    foreach (IOperation? written in _assigned.ForOperation(body, cancellationToken).OfField(field))
                    {
                        // Evaluated for the same object: its parameters are unknown here, `this` is still this object.
                        result = ValueResult.Either(result, written is null ? ValueResult.Blocks : Evaluate(written, rest, new Frame(method, null, default, FrameKind.Opaque, objectFrame), depth + 1, cancellationToken));
                        if (result.Verdict == ValueVerdict.Blocks)
                        {
                            return result;
                        }
                    }
                }
            }
        }

        return result;
    }

    /// <summary><c>new T(args).f…</c>: what the constructor stores in the field, with its parameters bound to the arguments.</summary>
    private ValueResult FieldOfCreation(IObjectCreationOperation creation, ImmutableArray<IFieldSymbol> path, Frame frame, int depth, CancellationToken cancellationToken)
    {
        if (creation.Constructor is not { } constructor)
        {
            return ValueResult.Blocks;
        }

        if (!InheritsFrom(creation.Type, path[0].ContainingType))
        {
            // An object without that field: the way through it cannot be taken.
            return ValueResult.NoBlock;
        }

        return FieldOfThis(path, new Frame(constructor, frame, Arguments(constructor, creation.Arguments)), depth + 1, cancellationToken);
    }

    /// <summary>What <paramref name="constructor"/> (run in <paramref name="frame"/>) leaves in <paramref name="field"/>, followed by <paramref name="rest"/>.</summary>
    private ValueResult Stored(IMethodSymbol constructor, Frame frame, IFieldSymbol field, ImmutableArray<IFieldSymbol> rest, int depth, CancellationToken cancellationToken)
    {
        if (depth > MaxDepth || field.IsStatic)
        {
            return ValueResult.Blocks;
        }

        IConstructorBodyOperation? body = null;
        foreach (SyntaxReference reference in constructor.DeclaringSyntaxReferences)
        {
            body ??= _models.Operation(reference, cancellationToken) as IConstructorBodyOperation;
        }

        if (body is null && !constructor.IsImplicitlyDeclared)
        {
            // In metadata, or not a constructor body we can read.
            return ValueResult.Blocks;
        }

        bool ownField = SymbolEqualityComparer.Default.Equals(field.ContainingType?.OriginalDefinition, constructor.ContainingType?.OriginalDefinition);
        if (ownField && body is not null)
        {
            IReadOnlyList<IOperation?> writes = _assigned.ForOperation(body, cancellationToken).OfField(field);
            if (writes.Count > 0)
            {
                ValueResult result = ValueResult.NoBlock;
                foreach (IOperation? written in writes)
                {
                    result = ValueResult.Either(result, written is null ? ValueResult.Blocks : Evaluate(written, rest, frame, depth + 1, cancellationToken));
                }

                return result;
            }
        }

        // Not written here: by the constructor it chains to (`: this(...)`; for a base type's field, the base one) ...
        IMethodSymbol? chained = null;
        ImmutableArray<IOperation?> arguments = ImmutableArray<IOperation?>.Empty;
        if (body?.Initializer is { } initializer && Unwrap(initializer) is IInvocationOperation { TargetMethod.MethodKind: MethodKind.Constructor } call)
        {
            chained = call.TargetMethod;
            arguments = Arguments(chained, call.Arguments);
        }
        else if (!ownField && constructor.ContainingType?.BaseType is { } baseType)
        {
            foreach (IMethodSymbol candidate in baseType.InstanceConstructors)
            {
                chained ??= candidate.Parameters.IsEmpty ? candidate : null;
            }
        }

        if (chained is not null && (!ownField || SymbolEqualityComparer.Default.Equals(chained.ContainingType?.OriginalDefinition, constructor.ContainingType?.OriginalDefinition)) &&
            InheritsFrom(chained.ContainingType, field.ContainingType))
        {
            return Stored(chained, new Frame(chained, frame, arguments), field, rest, depth + 1, cancellationToken);
        }

        if (!ownField)
        {
            return ValueResult.Blocks;
        }

        // ... or by its initializer; else it stays null.
        foreach (SyntaxReference reference in field.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax(cancellationToken) is Microsoft.CodeAnalysis.CSharp.Syntax.VariableDeclaratorSyntax { Initializer: { } equals } &&
                _models.Get(reference.SyntaxTree)?.GetOperation(equals, cancellationToken) is IFieldInitializerOperation fieldInitializer)
            {
                return Evaluate(fieldInitializer.Value, rest, frame, depth + 1, cancellationToken);
            }
        }

        return ValueResult.NoBlock;
    }

    private static IOperation Unwrap(IOperation operation) => operation is IExpressionStatementOperation statement ? statement.Operation : operation;

    /// <summary>The arguments of a call by parameter ordinal (defaults included, as the operation tree supplies them).</summary>
    private static ImmutableArray<IOperation?> Arguments(IMethodSymbol method, ImmutableArray<IArgumentOperation> arguments)
    {
        var result = new IOperation?[method.Parameters.Length];
        foreach (IArgumentOperation argument in arguments)
        {
            if (argument.Parameter is { } parameter && parameter.Ordinal < result.Length && argument.ArgumentKind != ArgumentKind.ParamArray)
            {
                result[parameter.Ordinal] = argument.Value;
            }
        }

        return ImmutableArray.Create(result);
    }

    private static bool InheritsFrom(ITypeSymbol? type, INamedTypeSymbol? owner)
    {
        for (ITypeSymbol? current = type; current is not null; current = current.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(current.OriginalDefinition, owner?.OriginalDefinition))
            {
                return true;
            }
        }

        return false;
    }

    private static IOperation? ConditionalAccessReceiver(IConditionalAccessInstanceOperation access)
    {
        for (IOperation? current = access.Parent; current is not null; current = current.Parent)
        {
            if (current is IConditionalAccessOperation conditional)
            {
                return conditional.Operation;
            }
        }

        return null;
    }

    private static IOperation? Strip(IOperation? operation)
    {
        while (true)
        {
            switch (operation)
            {
                case IConversionOperation { OperatorMethod: null } conversion:
                    operation = conversion.Operand;
                    continue;
                case IParenthesizedOperation parenthesized:
                    operation = parenthesized.Operand;
                    continue;
                default:
                    return operation;
            }
        }
    }

    /// <summary>What a frame's parameters are.</summary>
    private enum FrameKind
    {
        /// <summary>The summarized method's own (they become literals), or a constructor's run for a known <c>new</c> (the outer frame's arguments).</summary>
        Inputs,

        /// <summary>A constructor of unknown callers: its parameters make the result depend on the construction.</summary>
        AnyConstruction,

        /// <summary>A member that writes a field, evaluated for its value: its parameters are not known.</summary>
        Opaque,
    }

    /// <summary>
    /// Where a value is evaluated: the summarized method itself (no outer frame), a constructor run for a known
    /// <c>new</c> (its parameters are that call's arguments, in the outer frame), a constructor of unknown callers, or
    /// a member that writes a field of an object whose constructor frame (<see cref="ObjectFrame"/>) may be known.
    /// </summary>
    private sealed class Frame
    {
        public Frame(IMethodSymbol? method, Frame? outer, ImmutableArray<IOperation?> arguments, FrameKind kind = FrameKind.Inputs, Frame? objectFrame = null)
        {
            Method = method;
            Outer = outer;
            Arguments = arguments.IsDefault ? ImmutableArray<IOperation?>.Empty : arguments;
            Kind = kind;
            ObjectFrame = objectFrame;
        }

        public IMethodSymbol? Method { get; }

        public Frame? Outer { get; }

        public ImmutableArray<IOperation?> Arguments { get; }

        public FrameKind Kind { get; }

        /// <summary>For a member evaluated for a known object: the frame of the constructor that made it.</summary>
        public Frame? ObjectFrame { get; }
    }
}
