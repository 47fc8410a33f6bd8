// Folds page numbers, starts and lengths to intervals (constants, locals written once, loop counters); reads the
// body's facts, never the path state.
using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace DmaBuf.Analyzers.Engine;

/// <summary>
/// Folds pages, starts and lengths to intervals: compile-time constants (literals, const fields and locals,
/// <c>DmaBuffer.PageSize</c>, arithmetic on them), locals written once, simple <c>for</c> loop counters, and the arms
/// of a conditional. Anything else is unknown (null), which keeps the range rules silent.
/// </summary>
internal sealed class ValueEvaluator
{
    private const int MaxDepth = 12;
    private readonly BodyFacts _facts;
    private readonly KnownSymbols _symbols;

    public ValueEvaluator(BodyFacts facts, KnownSymbols symbols)
    {
        _facts = facts;
        _symbols = symbols;
    }

    public Interval? Evaluate(IOperation? operation) => Evaluate(operation, 0);

    private Interval? Evaluate(IOperation? operation, int depth)
    {
        if (operation is null || depth > MaxDepth)
        {
            return null;
        }

        if (operation.ConstantValue.HasValue)
        {
            return BodyFacts.TryLong(operation.ConstantValue.Value, out long value) ? Interval.Constant(value) : null;
        }

        switch (operation)
        {
            case IConversionOperation conversion:
                return Evaluate(conversion.Operand, depth + 1);
            case IArgumentOperation argument:
                return Evaluate(argument.Value, depth + 1);
            case ILocalReferenceOperation local:
                if (_facts.LoopCounter(local.Local) is { } counter)
                {
                    return Counter(counter, depth);
                }

                return _facts.IsStableLocal(local.Local) ? Evaluate(_facts.SingleValue(local.Local), depth + 1) : null;
            case IFlowCaptureReferenceOperation capture:
                IReadOnlyList<IOperation>? values = _facts.CaptureValues(capture.Id);
                if (values is null || values.Count == 0)
                {
                    return null;
                }

                Interval? hull = null;
                foreach (IOperation value in values)
                {
                    if (Evaluate(value, depth + 1) is not { } interval)
                    {
                        return null;
                    }

                    hull = hull is { } h ? h.Hull(interval) : interval;
                }

                return hull;
            case IBinaryOperation binary:
                return Binary(binary.OperatorKind, Evaluate(binary.LeftOperand, depth + 1), Evaluate(binary.RightOperand, depth + 1));
            case IPropertyReferenceOperation { Instance: { } instance } property when SymbolEqualityComparer.Default.Equals(property.Property.ContainingType, _symbols.DmaBuffer):
                return BufferProperty(property.Property.Name, instance, depth);
            case IParenthesizedOperation parenthesized:
                return Evaluate(parenthesized.Operand, depth + 1);
            default:
                return null;
        }
    }

    /// <summary>A loop counter takes its first value up to its bound: first..bound - 1, or first..bound when inclusive.</summary>
    private Interval? Counter(LoopBounds bounds, int depth)
    {
        if (Evaluate(bounds.First, depth + 1) is not { } first || Evaluate(bounds.Bound, depth + 1) is not { } bound)
        {
            return null;
        }

        long high = bounds.Inclusive ? bound.High : bound.High - 1;
        if (high < first.Low)
        {
            return null;
        }

        // With a step of more than one, the last value is the last one the step reaches from a known first value.
        if (bounds.Step > 1)
        {
            if (!first.IsConstant)
            {
                return null;
            }

            high = first.Low + ((high - first.Low) / bounds.Step * bounds.Step);
        }

        return new Interval(first.Low, high);
    }

    /// <summary>
    /// <c>Size</c> and <c>PageCount</c> of a buffer this body exported into a local written once: the size given to
    /// Export, and that size in whole pages.
    /// </summary>
    private Interval? BufferProperty(string name, IOperation instance, int depth)
    {
        if (name is not ("Size" or "PageCount") || BodyFacts.Unwrap(instance) is not ILocalReferenceOperation local || !_facts.IsStableLocal(local.Local) ||
            _facts.IsCaptured(local.Local) || _facts.SingleValue(local.Local) is not { } value || BodyFacts.Unwrap(value) is not IInvocationOperation export ||
            !KnownSymbols.IsSame(export.TargetMethod, _symbols.Export) || export.Arguments.Length < 2 || Evaluate(export.Arguments[1].Value, depth + 1) is not { } size || size.Low <= 0)
        {
            return null;
        }

        return name == "Size" ? size : new Interval((size.Low + PageMath.PageSize - 1) / PageMath.PageSize, (size.High + PageMath.PageSize - 1) / PageMath.PageSize);
    }

    private static Interval? Binary(BinaryOperatorKind kind, Interval? left, Interval? right)
    {
        if (left is not { } l || right is not { } r)
        {
            return null;
        }

        const long Limit = 1L << 40;
        if (l.Low < -Limit || l.High > Limit || r.Low < -Limit || r.High > Limit)
        {
            return null;
        }

        switch (kind)
        {
            case BinaryOperatorKind.Add:
                return new Interval(l.Low + r.Low, l.High + r.High);
            case BinaryOperatorKind.Subtract:
                return new Interval(l.Low - r.High, l.High - r.Low);
            case BinaryOperatorKind.Multiply when l.Low >= 0 && r.Low >= 0:
                return new Interval(l.Low * r.Low, l.High * r.High);
            case BinaryOperatorKind.Divide when l.Low >= 0 && r.Low > 0:
                return new Interval(l.Low / r.High, l.High / r.Low);
            case BinaryOperatorKind.LeftShift when l.IsConstant && r.IsConstant && r.Low is >= 0 and < 24:
                return Interval.Constant(l.Low << (int)r.Low);
            default:
                return null;
        }
    }
}
