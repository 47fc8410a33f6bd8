// The transfer of a branch condition: each path takes the branches its facts allow (PathFacts), and a path that
// holds a scope, page, buffer or table in the tested variable is not null and is of that type.
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
    private (FlowState? WhenTrue, FlowState? WhenFalse) Split(BasicBlock block, FlowState state)
    {
        if (block.BranchValue!.ConstantValue is { HasValue: true, Value: bool constant })
        {
            // `while (true)`: the branch the constant rules out is never taken.
            return constant ? (state, null) : (null, state);
        }

        if (state.IsTop)
        {
            return (state, state);
        }

        // What the paths know of the tested value: a second test of an unchanged value follows the first.
        (FlowState? whenTrue, FlowState? whenFalse) = _paths.Split(block, state);
        if (block.BranchValue is IIsPatternOperation { Pattern: { } typePattern } isPattern && MatchedType(typePattern) is { } matched)
        {
            // A variable that holds a buffer, page, scope or table on a path is one of those, and not null.
            ImmutableArray<int> typed = HoldersOf(isPattern.Value);
            if (!typed.IsEmpty)
            {
                whenFalse = whenFalse?.Where(c => !HoldsA(c, typed, matched));
            }
        }

        (IOperation? tested, bool whenTrueIsNull) = NullTest(block.BranchValue!);
        if (tested is null)
        {
            return (whenTrue, whenFalse);
        }

        ImmutableArray<int> holders = HoldersOf(tested);
        if (holders.IsEmpty)
        {
            return (whenTrue, whenFalse);
        }

        // A scope or page that a path holds is not null: that path does not take the "is null" branch.
        return whenTrueIsNull ? (whenTrue?.Where(c => !Holds(c, holders)), whenFalse) : (whenTrue, whenFalse?.Where(c => !Holds(c, holders)));
    }

    /// <summary>The local a declaration pattern (`is DmaBuffer d`, `is { } p`) gives the tested value to.</summary>
    private static ILocalSymbol? DeclaredBy(IPatternOperation pattern) => pattern switch
    {
        IDeclarationPatternOperation { DeclaredSymbol: ILocalSymbol local } => local,
        IRecursivePatternOperation { DeclaredSymbol: ILocalSymbol local } => local,
        _ => null,
    };

    private static ITypeSymbol? MatchedType(IPatternOperation pattern) => pattern switch
    {
        IDeclarationPatternOperation declaration => declaration.MatchedType,
        ITypePatternOperation type => type.MatchedType,
        IRecursivePatternOperation { DeconstructionSubpatterns.Length: 0, PropertySubpatterns.Length: 0 } recursive => recursive.MatchedType,
        _ => null,
    };

    /// <summary>Whether a path holds, by one of <paramref name="holders"/>, a record whose value is a <paramref name="type"/>.</summary>
    private bool HoldsA(Config config, ImmutableArray<int> holders, ITypeSymbol type)
    {
        bool Is(ITypeSymbol? actual) =>
            actual is not null && (type.SpecialType == SpecialType.System_Object || SymbolEqualityComparer.Default.Equals(Underlying(type), actual) || actual.AllInterfaces.Any(i => SymbolEqualityComparer.Default.Equals(i, type)));

        return (PathRecords.AnyHeldBy(config.Open, holders) && Is(_symbols.CpuAccessScope)) ||
            (PathRecords.AnyHeldBy(config.Held, holders) && Is(_symbols.DmaBufPage)) ||
            config.Resources.Any(r => PathRecords.SharesHolder(r.Holders, holders) && Is(r.Kind switch { ResourceKind.Reference => _symbols.DmaBuffer, ResourceKind.Vmap => _symbols.DmaBufVmap, _ => _symbols.ScatterGatherTable }));
    }

    private static ITypeSymbol Underlying(ITypeSymbol type) =>
        type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable ? nullable.TypeArguments[0] : type;

    /// <summary>The operand of a null test (<c>is null</c>, <c>== null</c>, <c>!= null</c>, <c>is not null</c>), and whether "true" means null.</summary>
    private static (IOperation? Tested, bool WhenTrueIsNull) NullTest(IOperation condition)
    {
        switch (condition)
        {
            case IIsNullOperation isNull:
                return (isNull.Operand, true);
            case IBinaryOperation { OperatorKind: BinaryOperatorKind.Equals or BinaryOperatorKind.NotEquals } binary:
                bool equals = binary.OperatorKind == BinaryOperatorKind.Equals;
                if (IsNullLiteral(binary.RightOperand))
                {
                    return (binary.LeftOperand, equals);
                }

                return IsNullLiteral(binary.LeftOperand) ? (binary.RightOperand, equals) : (null, false);
            case IIsPatternOperation { Pattern: IConstantPatternOperation constant } pattern when IsNullLiteral(constant.Value):
                return (pattern.Value, true);
            case IIsPatternOperation { Pattern: INegatedPatternOperation { Pattern: IConstantPatternOperation constant } } pattern when IsNullLiteral(constant.Value):
                return (pattern.Value, false);
            case IPropertyReferenceOperation { Property.Name: "HasValue", Instance: { } nullable } when IsNullableValue(nullable):
                return (nullable, false);
            default:
                return (null, false);
        }
    }

    private static bool IsNullLiteral(IOperation operation) =>
        operation.ConstantValue.HasValue && operation.ConstantValue.Value is null;

    private static bool Holds(Config config, ImmutableArray<int> holders) =>
        PathRecords.AnyHeldBy(config.Open, holders) || PathRecords.AnyHeldBy(config.Held, holders) || PathRecords.AnyHeldBy(config.Resources, holders);

    private static bool Holds(Config config, int holder) =>
        PathRecords.AnyHeldBy(config.Open, holder) || PathRecords.AnyHeldBy(config.Held, holder) || PathRecords.AnyHeldBy(config.Resources, holder);
}
