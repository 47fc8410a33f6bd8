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

    public ValueEvaluator(BodyFacts facts)
    {
        _facts = facts;
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
                    return counter;
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
            default:
                return null;
        }
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
