// The conditions on a method's inputs (a bool's value, an in-memory stream, a completed task) under which one of its
// ways blocks, and how a call's arguments decide them.
using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace DmaBuf.Analyzers.Blocking;

// What a summary says about its caller's inputs: a literal is one condition on a method's own parameters or receiver,
// a guard is a conjunction of them, and a way is "blocks under this guard, this many calls down". A method's summary
// is a small Pareto set of ways.

/// <summary>The kinds of condition a way may put on the summarized method's inputs.</summary>
internal enum LiteralKind
{
    /// <summary>The bool parameter <see cref="Literal.Root"/> is <see cref="Literal.Value"/>.</summary>
    BoolIs,

    /// <summary>The stream, reader or writer at <see cref="Literal.Root"/>.<see cref="Literal.Fields"/> is not an in-memory one.</summary>
    NotInMemory,

    /// <summary>The object at <see cref="Literal.Root"/> is a <see cref="Literal.Type"/> (the way runs that type's override).</summary>
    IsA,

    /// <summary>The array parameter <see cref="Literal.Root"/> is not empty (<c>if (converters.Length &gt; 0)</c>).</summary>
    NonEmpty,

    /// <summary>The task parameter <see cref="Literal.Root"/> has not completed (its result would be waited for).</summary>
    NotCompleted,
}

/// <summary>
/// One condition on the summarized method's inputs: "bool parameter 2 is false", "what parameter 0 refers to is not an
/// in-memory writer", "the writer in field <c>_writer</c> of the receiver is not in memory", "the receiver is a
/// JsonTextWriter", "array parameter 1 is not empty", "task parameter 0 has not completed". Roots are parameter
/// ordinals, or <see cref="Receiver"/>; field paths are readonly fields, at most <see cref="MaxFields"/> of them.
/// </summary>
internal sealed class Literal : IEquatable<Literal>
{
    /// <summary>The root that stands for the receiver (<c>this</c>).</summary>
    public const int Receiver = -1;

    /// <summary>The longest field path a literal follows from its root.</summary>
    public const int MaxFields = 2;

    private Literal(LiteralKind kind, int root, ImmutableArray<IFieldSymbol> fields, bool value, INamedTypeSymbol? type)
    {
        Kind = kind;
        Root = root;
        Fields = fields;
        Value = value;
        Type = type;
        Key = kind switch
        {
            LiteralKind.BoolIs => $"b{root}={(value ? 1 : 0)}",
            LiteralKind.IsA => $"t{root}:" + type?.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
            LiteralKind.NonEmpty => $"n{root}",
            LiteralKind.NotCompleted => $"c{root}",
            _ => $"m{root}" + string.Concat(fields.Select(f => "." + f.ContainingType?.MetadataName + "::" + f.Name)),
        };
    }

    public LiteralKind Kind { get; }

    public int Root { get; }

    public ImmutableArray<IFieldSymbol> Fields { get; }

    public bool Value { get; }

    /// <summary>For <see cref="LiteralKind.IsA"/>: the type (its definition).</summary>
    public INamedTypeSymbol? Type { get; }

    /// <summary>A canonical text, for ordering and equality.</summary>
    public string Key { get; }

    public static Literal BoolIs(int parameter, bool value) => new(LiteralKind.BoolIs, parameter, ImmutableArray<IFieldSymbol>.Empty, value, null);

    public static Literal NotInMemory(int root, ImmutableArray<IFieldSymbol> fields) => new(LiteralKind.NotInMemory, root, fields, value: false, null);

    public static Literal NonEmpty(int parameter) => new(LiteralKind.NonEmpty, parameter, ImmutableArray<IFieldSymbol>.Empty, value: false, null);

    public static Literal NotCompleted(int parameter) => new(LiteralKind.NotCompleted, parameter, ImmutableArray<IFieldSymbol>.Empty, value: false, null);

    public static Literal IsA(int root, INamedTypeSymbol type) => new(LiteralKind.IsA, root, ImmutableArray<IFieldSymbol>.Empty, value: false, type.OriginalDefinition);

    public bool Equals(Literal? other) => other is not null && string.Equals(Key, other.Key, StringComparison.Ordinal);

    public override bool Equals(object? obj) => Equals(obj as Literal);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Key);

    public override string ToString() => Key;
}

/// <summary>A conjunction of literals, sorted by key; <see cref="True"/> is the empty one.</summary>
internal sealed class Guard : IEquatable<Guard>
{
    /// <summary>At most this many literals; further path conditions are dropped (which only widens when the way blocks).</summary>
    public const int MaxLiterals = 4;

    public static readonly Guard True = new(ImmutableArray<Literal>.Empty);

    private Guard(ImmutableArray<Literal> literals)
    {
        Literals = literals;
        Key = string.Join("&", literals.Select(l => l.Key));
    }

    public ImmutableArray<Literal> Literals { get; }

    public string Key { get; }

    public bool IsTrue => Literals.IsEmpty;

    /// <summary>The conjunction of <paramref name="literals"/>, or null when two of them contradict (a bool both true and false).</summary>
    public static Guard? Of(IEnumerable<Literal> literals)
    {
        var sorted = new SortedDictionary<string, Literal>(StringComparer.Ordinal);
        foreach (Literal literal in literals)
        {
            sorted[literal.Key] = literal;
        }

        foreach (Literal literal in sorted.Values)
        {
            if (literal.Kind == LiteralKind.BoolIs && sorted.ContainsKey(Literal.BoolIs(literal.Root, !literal.Value).Key))
            {
                return null;
            }
        }

        return sorted.Count == 0 ? True : new Guard(sorted.Values.Take(MaxLiterals).ToImmutableArray());
    }

    /// <summary>Whether every literal of this guard is in <paramref name="other"/> (so this one holds whenever that one does).</summary>
    public bool IsWeakerOrEqual(Guard other)
    {
        foreach (Literal literal in Literals)
        {
            if (!other.Literals.Contains(literal))
            {
                return false;
            }
        }

        return true;
    }

    public bool Equals(Guard? other) => other is not null && string.Equals(Key, other.Key, StringComparison.Ordinal);

    public override bool Equals(object? obj) => Equals(obj as Guard);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Key);

    public override string ToString() => IsTrue ? "true" : Key;
}

/// <summary>One way a method blocks: under <see cref="Guard"/>, with the blocking operation <see cref="Depth"/> calls down (0: in its own body).</summary>
internal readonly struct Way : IEquatable<Way>
{
    public Way(Guard guard, int depth)
    {
        Guard = guard;
        Depth = depth;
    }

    public Guard Guard { get; }

    public int Depth { get; }

    /// <summary>Whether this way makes <paramref name="other"/> redundant: it blocks at least as often, and no deeper.</summary>
    public bool Dominates(Way other) => Depth <= other.Depth && Guard.IsWeakerOrEqual(other.Guard);

    public bool Equals(Way other) => Depth == other.Depth && Guard.Equals(other.Guard);

    public override bool Equals(object? obj) => obj is Way other && Equals(other);

    public override int GetHashCode() => (Guard.GetHashCode() * 31) + Depth;
}

/// <summary>A method's ways as a bounded Pareto set: no way dominates another; at most <see cref="MaxWays"/>, the most general first.</summary>
internal static class WaySet
{
    public const int MaxWays = 8;

    /// <summary>Adds <paramref name="candidate"/> unless a way already dominates it, removing the ways it dominates.</summary>
    public static void Add(List<Way> ways, Way candidate)
    {
        foreach (Way way in ways)
        {
            if (way.Dominates(candidate))
            {
                return;
            }
        }

        ways.RemoveAll(candidate.Dominates);
        ways.Add(candidate);
    }

    /// <summary>The set in its canonical order (fewest literals, then least depth, then key), cut to <see cref="MaxWays"/>.</summary>
    public static ImmutableArray<Way> Freeze(List<Way> ways) =>
        ways.OrderBy(w => w.Guard.Literals.Length)
            .ThenBy(w => w.Depth)
            .ThenBy(w => w.Guard.Key, StringComparer.Ordinal)
            .Take(MaxWays)
            .ToImmutableArray();

    public static bool SameAs(ImmutableArray<Way> a, ImmutableArray<Way> b)
    {
        if (a.Length != b.Length)
        {
            return false;
        }

        for (int i = 0; i < a.Length; i++)
        {
            if (!a[i].Equals(b[i]))
            {
                return false;
            }
        }

        return true;
    }
}
