// Intervals of whole numbers for pages, starts and lengths, with the arithmetic the value evaluator needs.
using System;
using System.Globalization;
using Microsoft.CodeAnalysis;

namespace DmaBuf.Analyzers.Engine;

/// <summary>A closed range of whole numbers that a page, start or length may take; a constant when both ends agree.</summary>
internal readonly struct Interval : IEquatable<Interval>
{
    public Interval(long low, long high)
    {
        Low = low;
        High = high;
    }

    public long Low { get; }

    public long High { get; }

    public bool IsConstant => Low == High;

    public static Interval Constant(long value) => new(value, value);

    public bool Contains(Interval other) => other.Low >= Low && other.High <= High;

    public Interval Hull(Interval other) => new(Math.Min(Low, other.Low), Math.Max(High, other.High));

    public bool Equals(Interval other) => Low == other.Low && High == other.High;

    public override bool Equals(object? obj) => obj is Interval other && Equals(other);

    public override int GetHashCode() => unchecked((Low.GetHashCode() * 397) ^ High.GetHashCode());

    public override string ToString() =>
        IsConstant ? Low.ToString(CultureInfo.InvariantCulture) : Low.ToString(CultureInfo.InvariantCulture) + ".." + High.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Whether two values are the same: for certain, certainly not, or it cannot be told.</summary>
internal enum Sameness
{
    Same,
    Different,
    Unknown,
}

/// <summary>
/// One argument of a CPU access call as the analysis knows it: the interval of its value when that folds, the value key
/// of its expression (the same key is the same value while its operands do not change), and how it is written.
/// </summary>
internal readonly struct Operand
{
    private readonly SyntaxNode? _syntax;

    /// <param name="value">The interval of its value, when that folds.</param>
    /// <param name="key">Its value key, or -1.</param>
    /// <param name="syntax">How it is written (turned into text only when a message needs it).</param>
    public Operand(Interval? value, int key, SyntaxNode? syntax)
    {
        Value = value;
        Key = key;
        _syntax = syntax;
    }

    public Interval? Value { get; }

    /// <summary>The value key of the expression (see ValueKeys), or -1.</summary>
    public int Key { get; }

    public string? Text => _syntax?.ToString();

    public bool HasText => _syntax is not null;

    public bool IsConstant => Value is { IsConstant: true };

    /// <summary>The same operand, no longer known to be the value of its expression (an operand of it was written).</summary>
    public Operand WithoutKey() => new(Value, -1, _syntax);

    public Sameness Compare(Operand other)
    {
        if (Value is { } a && other.Value is { } b)
        {
            if (a.IsConstant && b.IsConstant)
            {
                return a.Low == b.Low ? Sameness.Same : Sameness.Different;
            }

            if (a.High < b.Low || b.High < a.Low)
            {
                return Sameness.Different;
            }
        }

        return Key >= 0 && Key == other.Key ? Sameness.Same : Sameness.Unknown;
    }

    public string Display() => Value is { IsConstant: true } constant ? constant.ToString() : Text ?? "?";
}

/// <summary>The start, length and direction of a begun CPU access; each part may be unknown or known only as an expression.</summary>
internal sealed class AccessRange
{
    public AccessRange(Interval? start, Interval? length, long? direction, string directionName)
        : this(new Operand(start, -1, null), new Operand(length, -1, null), new Operand(direction is { } d ? Interval.Constant(d) : null, -1, null), directionName)
    {
    }

    public AccessRange(Operand start, Operand length, Operand direction, string directionName, bool isWholeBuffer = false)
    {
        StartOperand = start;
        LengthOperand = length;
        DirectionOperand = direction;
        DirectionName = directionName;
        IsWholeBuffer = isWholeBuffer;
    }

    /// <summary>
    /// The access of the whole buffer that <c>BeginCpuAccess(direction)</c> begins (no start or length): only a whole-buffer
    /// end ends it, and a whole-buffer end ends no ranged access, even one over every byte (the kernel's later API).
    /// </summary>
    public bool IsWholeBuffer { get; }

    /// <summary>A whole-buffer access in <paramref name="direction"/>.</summary>
    public static AccessRange WholeBuffer(Operand direction, string directionName) =>
        new(new Operand(null, -1, null), new Operand(null, -1, null), direction, directionName, isWholeBuffer: true);

    public Operand StartOperand { get; }

    public Operand LengthOperand { get; }

    public Operand DirectionOperand { get; }

    public Interval? Start => StartOperand.Value;

    public Interval? Length => LengthOperand.Value;

    public long? Direction => DirectionOperand.Value is { IsConstant: true } d ? d.Low : null;

    public string DirectionName { get; }

    /// <summary>Whether start, length and direction are all single known values.</summary>
    public bool IsConstant => (IsWholeBuffer || (Start is { IsConstant: true } && Length is { IsConstant: true })) && Direction.HasValue;

    /// <summary>Whether a value key of an operand depends on something: used to drop it when that is written.</summary>
    public bool HasKey => StartOperand.Key >= 0 || LengthOperand.Key >= 0 || DirectionOperand.Key >= 0;

    /// <summary>The page span, start / PageSize .. (start + length - 1) / PageSize, when start and length are constants.</summary>
    public Interval? PageSpan
    {
        get
        {
            if (Start is not { IsConstant: true } start || Length is not { IsConstant: true } length || length.Low <= 0 || start.Low < 0)
            {
                return null;
            }

            long first = start.Low / PageMath.PageSize;
            long last = (start.Low + length.Low - 1) / PageMath.PageSize;
            return new Interval(first, last);
        }
    }

    /// <summary>
    /// Whether an end with this range ends an access begun with <paramref name="other"/>: the same when start, length and
    /// direction are each the same value (equal constants, or the same expression over unchanged operands); different
    /// when one of them differs for certain; otherwise it cannot be told.
    /// </summary>
    public Sameness Compare(AccessRange other)
    {
        if (IsWholeBuffer != other.IsWholeBuffer)
        {
            return Sameness.Different;
        }

        if (IsWholeBuffer)
        {
            return DirectionOperand.Compare(other.DirectionOperand);
        }

        Sameness start = StartOperand.Compare(other.StartOperand);
        Sameness length = LengthOperand.Compare(other.LengthOperand);
        Sameness direction = DirectionOperand.Compare(other.DirectionOperand);
        if (start == Sameness.Different || length == Sameness.Different || direction == Sameness.Different)
        {
            return Sameness.Different;
        }

        return start == Sameness.Same && length == Sameness.Same && direction == Sameness.Same ? Sameness.Same : Sameness.Unknown;
    }

    public bool SameAs(AccessRange other) => Compare(other) == Sameness.Same;

    /// <summary>The same range with the value keys that <paramref name="stale"/> says were invalidated dropped.</summary>
    public AccessRange Without(System.Func<int, bool> stale) =>
        new(
            stale(StartOperand.Key) ? StartOperand.WithoutKey() : StartOperand,
            stale(LengthOperand.Key) ? LengthOperand.WithoutKey() : LengthOperand,
            stale(DirectionOperand.Key) ? DirectionOperand.WithoutKey() : DirectionOperand,
            DirectionName,
            IsWholeBuffer);

    /// <summary>
    /// The arguments of the call that begins or ends this range, as written (<c>0, buf.Size, DmaDataDirection.FromDevice</c>,
    /// or the direction alone for the whole buffer), when each is a constant or an expression that still has the value
    /// it had at the call; null otherwise.
    /// </summary>
    public string? ArgumentsText()
    {
        static bool Known(Operand operand) => operand.HasText && (operand.IsConstant || operand.Key >= 0);
        if (!Known(DirectionOperand) || !IsWholeBuffer && (!Known(StartOperand) || !Known(LengthOperand)))
        {
            return null;
        }

        return IsWholeBuffer ? DirectionOperand.Text : StartOperand.Text + ", " + LengthOperand.Text + ", " + DirectionOperand.Text;
    }

    /// <summary>"bytes 0..8191, FromDevice", or "the whole buffer, FromDevice".</summary>
    public override string ToString() => (IsWholeBuffer ? "the whole buffer" : Bytes()) + ", " + DirectionName;

    /// <summary>"bytes 0..8191" for constants, "bytes 0..buf.Size - 1" for an expression, "an unknown range" otherwise.</summary>
    private string Bytes()
    {
        if (Start is { IsConstant: true } s && Length is { IsConstant: true } l)
        {
            return string.Format(CultureInfo.InvariantCulture, "bytes {0}..{1}", s.Low, s.Low + l.Low - 1);
        }

        if (!StartOperand.HasText && !StartOperand.IsConstant || !LengthOperand.HasText && !LengthOperand.IsConstant)
        {
            return "an unknown range";
        }

        string first = StartOperand.Display();
        string length = LengthOperand.IsConstant ? (LengthOperand.Value!.Value.Low - 1).ToString(CultureInfo.InvariantCulture) : Parenthesized(LengthOperand.Text!) + " - 1";
        string last = first == "0" ? length : Parenthesized(first) + " + " + length;
        return "bytes " + first + ".." + last;
    }

    private static string Parenthesized(string expression)
    {
        foreach (char c in expression)
        {
            if (c is ' ' or '+' or '-' or '?' or ':')
            {
                return "(" + expression + ")";
            }
        }

        return expression;
    }
}

/// <summary>The page size of the runtime, as the analyzers use it; mirrors <c>PageMath.PageSize</c> of the contract.</summary>
internal static class PageMath
{
    public const long PageSize = 4096;
}
