// Reads a branch condition as a test of one value: which key it tests and what each outcome tells of it
// (`p == null`, `p is not null`, `p.HasValue`, `ret != 0`, `err < 0`, `state == State.Ready`, `begun`, `!begun`,
// `x is > 0`, the comparisons a `switch` is lowered to). A condition it cannot read tests nothing.
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace DmaBuf.Analyzers.Engine;

/// <summary>A condition read as a test of one value.</summary>
internal readonly struct ConditionTest
{
    public ConditionTest(int key, Fact whenTrue, Fact whenFalse)
    {
        Key = key;
        WhenTrue = whenTrue;
        WhenFalse = whenFalse;
    }

    public int Key { get; }

    public Fact WhenTrue { get; }

    public Fact WhenFalse { get; }

    public ConditionTest Negated => new(Key, WhenFalse, WhenTrue);
}

internal static class Conditions
{
    private const int MaxDepth = 8;

    /// <summary>The test a condition makes, or null when it is not a test of one value the keys can name.</summary>
    public static ConditionTest? Read(IOperation condition, ValueKeys keys) => Read(condition, keys, 0);

    private static ConditionTest? Read(IOperation condition, ValueKeys keys, int depth)
    {
        if (depth > MaxDepth)
        {
            return null;
        }

        switch (condition)
        {
            case IConversionOperation { IsImplicit: true } conversion:
                return Read(conversion.Operand, keys, depth + 1);
            case IParenthesizedOperation parenthesized:
                return Read(parenthesized.Operand, keys, depth + 1);
            case IUnaryOperation { OperatorKind: UnaryOperatorKind.Not, OperatorMethod: null } not:
                return Read(not.Operand, keys, depth + 1)?.Negated;
            case IIsNullOperation isNull:
                return NullTest(isNull.Operand, keys, whenTrueIsNull: true);
            case IBinaryOperation { OperatorMethod: null } binary:
                return Binary(binary, keys);
            case IIsPatternOperation pattern:
                return Pattern(pattern.Value, pattern.Pattern, keys, depth);
            case IPropertyReferenceOperation { Property.Name: "HasValue", Instance: { } nullable } when IsNullable(nullable.Type):
                return NullTest(nullable, keys, whenTrueIsNull: false);
            default:
                if (condition.Type?.SpecialType == SpecialType.System_Boolean)
                {
                    int key = Tested(condition, keys);
                    return key < 0 ? null : new ConditionTest(key, Fact.Value(1), Fact.Value(0));
                }

                return null;
        }
    }

    /// <summary>The key of a tested operand: its value key, or for a call the key of its result.</summary>
    private static int Tested(IOperation operand, ValueKeys keys)
    {
        int key = keys.KeyOf(operand);
        return key < 0 && BodyFacts.Unwrap(operand) is IInvocationOperation call ? keys.ResultKey(call) : key;
    }

    private static ConditionTest? NullTest(IOperation operand, ValueKeys keys, bool whenTrueIsNull)
    {
        int key = Tested(operand, keys);
        if (key < 0)
        {
            return null;
        }

        return whenTrueIsNull ? new ConditionTest(key, Fact.Null, Fact.NotNull) : new ConditionTest(key, Fact.NotNull, Fact.Null);
    }

    private static ConditionTest? Binary(IBinaryOperation binary, ValueKeys keys)
    {
        BinaryOperatorKind kind = binary.OperatorKind;
        IOperation value = binary.LeftOperand;
        IOperation constant = binary.RightOperand;
        if (IsConstant(value) && !IsConstant(constant))
        {
            (value, constant) = (constant, value);
            kind = Mirror(kind);
        }

        if (!IsConstant(constant))
        {
            return null;
        }

        if (constant.ConstantValue.Value is null)
        {
            return kind switch
            {
                BinaryOperatorKind.Equals => NullTest(value, keys, whenTrueIsNull: true),
                BinaryOperatorKind.NotEquals => NullTest(value, keys, whenTrueIsNull: false),
                _ => null,
            };
        }

        if (!TryValue(constant.ConstantValue.Value, out long c))
        {
            return null;
        }

        int key = Tested(value, keys);
        return key < 0 ? null : Compare(key, kind, c);
    }

    private static ConditionTest? Compare(int key, BinaryOperatorKind kind, long c) => kind switch
    {
        BinaryOperatorKind.Equals => new ConditionTest(key, Fact.Value(c), Fact.Not(c)),
        BinaryOperatorKind.NotEquals => new ConditionTest(key, Fact.Not(c), Fact.Value(c)),
        BinaryOperatorKind.LessThan when c > long.MinValue => new ConditionTest(key, Fact.Range(long.MinValue, c - 1), Fact.Range(c, long.MaxValue)),
        BinaryOperatorKind.LessThanOrEqual when c < long.MaxValue => new ConditionTest(key, Fact.Range(long.MinValue, c), Fact.Range(c + 1, long.MaxValue)),
        BinaryOperatorKind.GreaterThan when c < long.MaxValue => new ConditionTest(key, Fact.Range(c + 1, long.MaxValue), Fact.Range(long.MinValue, c)),
        BinaryOperatorKind.GreaterThanOrEqual when c > long.MinValue => new ConditionTest(key, Fact.Range(c, long.MaxValue), Fact.Range(long.MinValue, c - 1)),
        _ => null,
    };

    private static ConditionTest? Pattern(IOperation value, IPatternOperation pattern, ValueKeys keys, int depth)
    {
        switch (pattern)
        {
            case INegatedPatternOperation negated:
                return Pattern(value, negated.Pattern, keys, depth + 1)?.Negated;
            case IConstantPatternOperation constant when IsConstant(constant.Value):
                if (constant.Value.ConstantValue.Value is null)
                {
                    return NullTest(value, keys, whenTrueIsNull: true);
                }

                int key = keys.KeyOf(value);
                return key >= 0 && TryValue(constant.Value.ConstantValue.Value, out long c) ? Compare(key, BinaryOperatorKind.Equals, c) : null;
            case IRelationalPatternOperation relational when IsConstant(relational.Value) && TryValue(relational.Value.ConstantValue.Value, out long bound):
                int tested = keys.KeyOf(value);
                return tested < 0 ? null : Compare(tested, relational.OperatorKind, bound);
            case IDeclarationPatternOperation { MatchesNull: false } declaration:
                return TypeTest(value, declaration.MatchedType, keys);
            case ITypePatternOperation type:
                return TypeTest(value, type.MatchedType, keys);
            case IRecursivePatternOperation { DeconstructionSubpatterns.Length: 0, PropertySubpatterns.Length: 0 } recursive:
                return TypeTest(value, recursive.MatchedType, keys);
            default:
                return null;
        }
    }

    /// <summary>
    /// `x is T`, `x is T t`, `x is { } t`: true means not null; false means null only when every non-null value of the
    /// input is a T (the test is then a null test).
    /// </summary>
    private static ConditionTest? TypeTest(IOperation value, ITypeSymbol? matched, ValueKeys keys)
    {
        int key = keys.KeyOf(value);
        if (key < 0)
        {
            return null;
        }

        ITypeSymbol? input = BodyFacts.Unwrap(value).Type;
        bool nullTest = input is not null && matched is not null &&
            (SymbolEqualityComparer.Default.Equals(Underlying(input), Underlying(matched)) || input.SpecialType == SpecialType.None && IsBaseOf(matched, input));
        return new ConditionTest(key, Fact.NotNull, nullTest ? Fact.Null : Fact.Unknown);
    }

    private static bool IsBaseOf(ITypeSymbol candidate, ITypeSymbol type)
    {
        for (ITypeSymbol? current = type; current is not null; current = current.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(current, candidate))
            {
                return true;
            }
        }

        return false;
    }

    private static ITypeSymbol Underlying(ITypeSymbol type) =>
        type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable ? nullable.TypeArguments[0] : type;

    private static bool IsNullable(ITypeSymbol? type) => type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T };

    private static bool IsConstant(IOperation operation) => operation.ConstantValue.HasValue;

    private static bool TryValue(object? value, out long result)
    {
        if (value is bool b)
        {
            result = b ? 1 : 0;
            return true;
        }

        if (value is char ch)
        {
            result = ch;
            return true;
        }

        return BodyFacts.TryLong(value, out result);
    }

    private static BinaryOperatorKind Mirror(BinaryOperatorKind kind) => kind switch
    {
        BinaryOperatorKind.LessThan => BinaryOperatorKind.GreaterThan,
        BinaryOperatorKind.LessThanOrEqual => BinaryOperatorKind.GreaterThanOrEqual,
        BinaryOperatorKind.GreaterThan => BinaryOperatorKind.LessThan,
        BinaryOperatorKind.GreaterThanOrEqual => BinaryOperatorKind.LessThanOrEqual,
        _ => kind,
    };
}
