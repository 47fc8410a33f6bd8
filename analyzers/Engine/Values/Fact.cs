// What one path knows of one value: whether it is null, the interval an integer, enum or bool value lies in
// (false is 0, true is 1), and one value it is known not to be (`ret != 0`). Facts narrow at a test (Meet) and
// widen where paths merge (Join); a fact that narrows to nothing is a path that cannot happen.
using System;
using System.Globalization;

namespace DmaBuf.Analyzers.Engine;

/// <summary>Whether a value is known to be null.</summary>
internal enum Nullness : byte
{
    Unknown,
    Null,
    NotNull,
}

internal readonly struct Fact : IEquatable<Fact>
{
    private Fact(Nullness nullness, long low, long high, long? excluded, bool empty)
    {
        Nullness = nullness;
        Low = low;
        High = high;
        Excluded = excluded;
        IsEmpty = empty;
    }

    /// <summary>Nothing known.</summary>
    public static Fact Unknown => new(Nullness.Unknown, long.MinValue, long.MaxValue, null, false);

    public static Fact Null => new(Nullness.Null, long.MinValue, long.MaxValue, null, false);

    public static Fact NotNull => new(Nullness.NotNull, long.MinValue, long.MaxValue, null, false);

    public Nullness Nullness { get; }

    public long Low { get; }

    public long High { get; }

    /// <summary>A value inside <see cref="Low"/>..<see cref="High"/> that the value is known not to be.</summary>
    public long? Excluded { get; }

    /// <summary>No value satisfies the fact: the path that has it cannot happen.</summary>
    public bool IsEmpty { get; }

    public bool IsUnknown => !IsEmpty && Nullness == Nullness.Unknown && Low == long.MinValue && High == long.MaxValue && Excluded is null;

    /// <summary>The one value the fact allows, when it allows exactly one.</summary>
    public long? Constant => !IsEmpty && Low == High ? Low : null;

    public static Fact Value(long value) => Range(value, value);

    public static Fact Range(long low, long high) => Normalize(Nullness.Unknown, low, high, null);

    public static Fact Not(long value) => Normalize(Nullness.Unknown, long.MinValue, long.MaxValue, value);

    /// <summary>What both facts say: the narrower fact, or an empty one when they contradict.</summary>
    public Fact Meet(Fact other)
    {
        if (IsEmpty || other.IsEmpty)
        {
            return Empty;
        }

        Nullness nullness;
        if (Nullness == Nullness.Unknown)
        {
            nullness = other.Nullness;
        }
        else if (other.Nullness == Nullness.Unknown || other.Nullness == Nullness)
        {
            nullness = Nullness;
        }
        else
        {
            return Empty;
        }

        long low = Math.Max(Low, other.Low);
        long high = Math.Min(High, other.High);
        Fact narrowed = Normalize(nullness, low, high, Excluded);
        if (narrowed.IsEmpty || other.Excluded is not { } excluded || !narrowed.Allows(excluded) || narrowed.Excluded is not null)
        {
            // A second excluded value is not kept: the fact then allows one value too many, which prunes less.
            return narrowed;
        }

        return Normalize(nullness, narrowed.Low, narrowed.High, excluded);
    }

    /// <summary>What either fact allows: the fact of a merge of two paths.</summary>
    public Fact Join(Fact other)
    {
        if (IsEmpty)
        {
            return other;
        }

        if (other.IsEmpty)
        {
            return this;
        }

        Nullness nullness = Nullness == other.Nullness ? Nullness : Nullness.Unknown;
        long low = Math.Min(Low, other.Low);
        long high = Math.Max(High, other.High);
        long? excluded = null;
        if (Excluded is { } mine && !other.Allows(mine))
        {
            excluded = mine;
        }
        else if (other.Excluded is { } theirs && !Allows(theirs))
        {
            excluded = theirs;
        }

        return Normalize(nullness, low, high, excluded);
    }

    /// <summary>Whether the integer value <paramref name="value"/> is allowed.</summary>
    public bool Allows(long value) => !IsEmpty && value >= Low && value <= High && Excluded != value;

    public bool Equals(Fact other) =>
        IsEmpty == other.IsEmpty && Nullness == other.Nullness && Low == other.Low && High == other.High && Excluded == other.Excluded;

    public override bool Equals(object? obj) => obj is Fact other && Equals(other);

    public override int GetHashCode() => unchecked((((((int)Nullness * 397) ^ Low.GetHashCode()) * 397) ^ High.GetHashCode()) ^ (Excluded?.GetHashCode() ?? 7) ^ (IsEmpty ? 1 : 0));

    public override string ToString()
    {
        if (IsEmpty)
        {
            return "impossible";
        }

        string range = Low == long.MinValue && High == long.MaxValue ? string.Empty : string.Format(CultureInfo.InvariantCulture, "[{0}..{1}]", Low, High);
        return Nullness + range + (Excluded is { } e ? " != " + e.ToString(CultureInfo.InvariantCulture) : string.Empty);
    }

    private static Fact Empty => new(Nullness.Unknown, 0, -1, null, true);

    private static Fact Normalize(Nullness nullness, long low, long high, long? excluded)
    {
        if (excluded is { } value)
        {
            if (value < low || value > high)
            {
                excluded = null;
            }
            else if (value == low && low < high)
            {
                low++;
                excluded = null;
            }
            else if (value == high && low < high)
            {
                high--;
                excluded = null;
            }
            else if (low == high)
            {
                return Empty;
            }
        }

        return low > high ? Empty : new Fact(nullness, low, high, excluded, false);
    }
}
