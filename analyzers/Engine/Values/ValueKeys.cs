// Value numbers of one body: a key per side-effect-free expression over variables (locals, parameters, `this`,
// fields and property chains rooted in them, flow captures, and arithmetic over those), the same key for the same
// expression wherever it is written, and which keys a write to a variable or member invalidates. It owns nothing
// of the path state; the engine keeps per path what is known of each key (Fact) and forgets it at a write.
using System.Collections.Generic;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace DmaBuf.Analyzers.Engine;

internal sealed class ValueKeys
{
    private const int MaxDepth = 8;

    private readonly BodyFacts _facts;
    private readonly Dictionary<(KeyKind Kind, long A, int B, int C), int> _ids = new();
    private readonly List<SyntaxNode> _display = new();
    private readonly List<ITypeSymbol?> _types = new();
    private readonly List<(KeyKind Kind, long A, int B, int C)> _shapes = new();
    private readonly Dictionary<ISymbol, int> _symbols = new(SymbolEqualityComparer.Default);
    private readonly Dictionary<CaptureId, int> _captures = new();
    private readonly Dictionary<int, List<int>> _dependents = new();
    private readonly List<ImmutableArray<int>> _dependencies = new();
    private System.Func<IParameterSymbol, IOperation?>? _substitute;

    public ValueKeys(BodyFacts facts)
    {
        _facts = facts;
    }

    private enum KeyKind : byte
    {
        Local,
        Parameter,
        This,
        Static,
        Member,
        Capture,
        Constant,
        Binary,
        Unary,
        Conversion,
        Result,
    }

    /// <summary>How many keys were made so far (ids are 0 to Count - 1).</summary>
    public int Count => _display.Count;

    /// <summary>The type of the expression a key stands for, when it has one.</summary>
    public ITypeSymbol? TypeOf(int key) => key >= 0 && key < _types.Count ? _types[key] : null;

    /// <summary>How the expression of a key is written in source, for messages.</summary>
    public string Display(int key) => key >= 0 && key < _display.Count ? _display[key].ToString() : "?";

    /// <summary>The expression a key was first made for, which is how messages write it.</summary>
    public SyntaxNode? SyntaxOf(int key) => key >= 0 && key < _display.Count ? _display[key] : null;

    /// <summary>
    /// The key of a side-effect-free expression, or -1 when it has none (a call, an element access, a variable the
    /// body cannot follow: by reference, or shared with a nested function). Constants have no key of their own.
    /// </summary>
    public int KeyOf(IOperation? operation) => operation is null || operation.ConstantValue.HasValue ? -1 : KeyOf(operation, 0);

    /// <summary>
    /// The key of the value one call site returns, as its callee's summary may tell it (`ret = Helper(buf); if (ret != 0)`).
    /// It stands for the result of the last execution of that call, and is only ever read directly, never inside
    /// another key.
    /// </summary>
    public int ResultKey(IInvocationOperation call) =>
        Intern(KeyKind.Result, call.Syntax.SpanStart, call.Syntax.Span.Length, 0, call, ImmutableArray<int>.Empty);

    /// <summary>
    /// Whether two keys are values that differ for certain: the same expression plus different constants (`n` and
    /// `n + 1`, `p - 2` and `p`).
    /// </summary>
    public bool Differ(int a, int b)
    {
        (int baseA, long offsetA) = Offset(a);
        (int baseB, long offsetB) = Offset(b);
        return baseA == baseB && offsetA != offsetB;
    }

    /// <summary>A key as another key plus a constant: `x + 3` is (x, 3), `x - 1` is (x, -1), anything else is itself plus 0.</summary>
    private (int Base, long Offset) Offset(int key)
    {
        if (key >= 0 && key < _shapes.Count && _shapes[key] is { Kind: KeyKind.Binary } shape && _shapes[shape.C] is { Kind: KeyKind.Constant } constant)
        {
            if (shape.A == (long)BinaryOperatorKind.Add)
            {
                return (shape.B, constant.A);
            }

            if (shape.A == (long)BinaryOperatorKind.Subtract)
            {
                return (shape.B, -constant.A);
            }
        }

        return (key, 0);
    }

    /// <summary>The key of a parameter read as a whole (what <see cref="KeyOf(IOperation?)"/> gives its references).</summary>
    public int ParameterKey(IParameterSymbol parameter)
    {
        int id = SymbolId(parameter);
        return _ids.TryGetValue((KeyKind.Parameter, id, 0, 0), out int key) ? key : -1;
    }

    /// <summary>
    /// The key of an expression of another body (a callee's) read in this one: each parameter of that body stands for the
    /// expression <paramref name="substitute"/> gives (the call's argument); anything else of that body has no key here.
    /// </summary>
    public int KeyOf(IOperation operation, System.Func<IParameterSymbol, IOperation?> substitute)
    {
        System.Func<IParameterSymbol, IOperation?>? outer = _substitute;
        _substitute = substitute;
        try
        {
            return operation.ConstantValue.HasValue ? -1 : KeyOf(operation, 0);
        }
        finally
        {
            _substitute = outer;
        }
    }

    /// <summary>The keys whose value a write to <paramref name="symbol"/> (a local, parameter, field or property) changes.</summary>
    public IReadOnlyList<int> Dependents(ISymbol symbol) =>
        _symbols.TryGetValue(symbol, out int id) && _dependents.TryGetValue(id, out List<int>? keys) ? keys : (IReadOnlyList<int>)System.Array.Empty<int>();

    /// <summary>The keys whose value a new value of flow capture <paramref name="capture"/> changes.</summary>
    public IReadOnlyList<int> Dependents(CaptureId capture) =>
        _captures.TryGetValue(capture, out int id) && _dependents.TryGetValue(id, out List<int>? keys) ? keys : (IReadOnlyList<int>)System.Array.Empty<int>();

    /// <summary>The key of a flow capture read as a value of its own (one with several values, as a conditional's), or -1.</summary>
    public int CaptureKey(CaptureId capture) =>
        _captures.TryGetValue(capture, out int id) && _ids.TryGetValue((KeyKind.Capture, id, 0, 0), out int key) ? key : -1;

    /// <summary>Whether a key's value depends on the variable or member <paramref name="symbol"/>.</summary>
    public bool DependsOn(int key, ISymbol symbol) =>
        key >= 0 && key < _dependencies.Count && _symbols.TryGetValue(symbol, out int id) && _dependencies[key].Contains(id);

    private int KeyOf(IOperation operation, int depth)
    {
        if (depth > MaxDepth)
        {
            return -1;
        }

        if (operation.ConstantValue.HasValue)
        {
            return BodyFacts.TryLong(operation.ConstantValue.Value, out long value) || operation.ConstantValue.Value is bool
                ? Intern(KeyKind.Constant, operation.ConstantValue.Value is bool b ? (b ? 1 : 0) : value, 0, 0, operation, ImmutableArray<int>.Empty)
                : -1;
        }

        switch (operation)
        {
            case IConversionOperation { IsImplicit: true } conversion:
                return KeyOf(conversion.Operand, depth + 1);
            case IConversionOperation conversion when conversion.OperatorMethod is null:
                {
                    int operand = KeyOf(conversion.Operand, depth + 1);
                    return operand < 0 ? -1 : Intern(KeyKind.Conversion, SymbolId(conversion.Type), operand, 0, operation, _dependencies[operand]);
                }

            case IParenthesizedOperation parenthesized:
                return KeyOf(parenthesized.Operand, depth + 1);
            case ILocalReferenceOperation or IInstanceReferenceOperation or IFlowCaptureReferenceOperation when _substitute is not null:
                return -1;
            case IParameterReferenceOperation substituted when _substitute is not null:
                return Substituted(substituted.Parameter, depth);
            case ILocalReferenceOperation local:
                return local.Local.IsRef || _facts.IsCaptured(local.Local) || _facts.IsOuter(local.Local)
                    ? -1
                    : Variable(KeyKind.Local, local.Local, operation);
            case IParameterReferenceOperation parameter:
                return parameter.Parameter.RefKind is RefKind.Ref or RefKind.Out || _facts.IsCaptured(parameter.Parameter) || _facts.IsOuter(parameter.Parameter)
                    ? -1
                    : Variable(KeyKind.Parameter, parameter.Parameter, operation);
            case IInstanceReferenceOperation:
                return Intern(KeyKind.This, 0, 0, 0, operation, ImmutableArray<int>.Empty);
            case IFieldReferenceOperation field:
                return Member(field.Field, field.Instance, operation, depth);
            case IPropertyReferenceOperation { Arguments.Length: 0 } property:
                return Member(property.Property, property.Instance, operation, depth);
            case IFlowCaptureReferenceOperation capture:
                {
                    IReadOnlyList<IOperation>? values = _facts.CaptureValues(capture.Id);
                    if (values is { Count: 1 } && !values[0].ConstantValue.HasValue && KeyOf(values[0], depth + 1) is int single and >= 0)
                    {
                        return single;
                    }

                    int id = CaptureSymbol(capture.Id);
                    return Intern(KeyKind.Capture, id, 0, 0, operation, ImmutableArray.Create(id));
                }

            case IBinaryOperation { OperatorMethod: null } binary:
                {
                    int left = KeyOf(binary.LeftOperand, depth + 1);
                    int right = KeyOf(binary.RightOperand, depth + 1);
                    return left < 0 || right < 0
                        ? -1
                        : Intern(KeyKind.Binary, (long)binary.OperatorKind, left, right, operation, _dependencies[left].AddRange(_dependencies[right]));
                }

            case IUnaryOperation { OperatorMethod: null } unary:
                {
                    int operand = KeyOf(unary.Operand, depth + 1);
                    return operand < 0 ? -1 : Intern(KeyKind.Unary, (long)unary.OperatorKind, operand, 0, operation, _dependencies[operand]);
                }

            default:
                return -1;
        }
    }

    /// <summary>A parameter of another body: the key of the expression that stands for it here, read in this body.</summary>
    private int Substituted(IParameterSymbol parameter, int depth)
    {
        System.Func<IParameterSymbol, IOperation?> substitute = _substitute!;
        IOperation? argument = substitute(parameter);
        if (argument is null)
        {
            return -1;
        }

        _substitute = null;
        try
        {
            return KeyOf(argument, depth + 1);
        }
        finally
        {
            _substitute = substitute;
        }
    }

    private int Variable(KeyKind kind, ISymbol symbol, IOperation operation)
    {
        int id = SymbolId(symbol);
        return Intern(kind, id, 0, 0, operation, ImmutableArray.Create(id));
    }

    private int Member(ISymbol member, IOperation? instance, IOperation operation, int depth)
    {
        int memberId = SymbolId(member);
        if (member.IsStatic || instance is null)
        {
            return Intern(KeyKind.Static, memberId, 0, 0, operation, ImmutableArray.Create(memberId));
        }

        int parent = KeyOf(instance, depth + 1);
        return parent < 0 ? -1 : Intern(KeyKind.Member, memberId, parent, 0, operation, _dependencies[parent].Add(memberId));
    }

    private int SymbolId(ISymbol? symbol)
    {
        if (symbol is null)
        {
            return -1;
        }

        if (!_symbols.TryGetValue(symbol, out int id))
        {
            id = _symbols.Count + _captures.Count;
            _symbols.Add(symbol, id);
        }

        return id;
    }

    private int CaptureSymbol(CaptureId capture)
    {
        if (!_captures.TryGetValue(capture, out int id))
        {
            id = _symbols.Count + _captures.Count;
            _captures.Add(capture, id);
        }

        return id;
    }

    private int Intern(KeyKind kind, long a, int b, int c, IOperation operation, ImmutableArray<int> dependencies)
    {
        if (_ids.TryGetValue((kind, a, b, c), out int key))
        {
            return key;
        }

        key = _display.Count;
        _ids.Add((kind, a, b, c), key);
        _display.Add(operation.Syntax);
        _shapes.Add((kind, a, b, c));
        _types.Add(operation.Type);
        _dependencies.Add(dependencies);
        foreach (int dependency in dependencies)
        {
            if (!_dependents.TryGetValue(dependency, out List<int>? keys))
            {
                keys = new List<int>();
                _dependents.Add(dependency, keys);
            }

            keys.Add(key);
        }

        return key;
    }
}
