using System;
using System.Globalization;

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

/// <summary>The start, length and direction of a begun CPU access; each part may be unknown.</summary>
internal sealed class AccessRange
{
    public AccessRange(Interval? start, Interval? length, long? direction, string directionName)
    {
        Start = start;
        Length = length;
        Direction = direction;
        DirectionName = directionName;
    }

    public Interval? Start { get; }

    public Interval? Length { get; }

    public long? Direction { get; }

    public string DirectionName { get; }

    /// <summary>Whether start, length and direction are all single known values.</summary>
    public bool IsConstant => Start is { IsConstant: true } && Length is { IsConstant: true } && Direction.HasValue;

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

    public bool SameAs(AccessRange other) =>
        IsConstant && other.IsConstant && Start!.Value.Low == other.Start!.Value.Low && Length!.Value.Low == other.Length!.Value.Low && Direction == other.Direction;

    public override string ToString()
    {
        string bytes = Start is { IsConstant: true } s && Length is { IsConstant: true } l
            ? string.Format(CultureInfo.InvariantCulture, "bytes {0}..{1}", s.Low, s.Low + l.Low - 1)
            : "an unknown range";
        return bytes + ", " + DirectionName;
    }
}

/// <summary>The page size of the runtime, as the analyzers use it; mirrors <c>PageMath.PageSize</c> of the contract.</summary>
internal static class PageMath
{
    public const long PageSize = 4096;
}
