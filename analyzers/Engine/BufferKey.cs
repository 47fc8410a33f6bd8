// The identity of a buffer reference the engine tracks: a root variable and a chain of members.
using System;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;

namespace DmaBuf.Analyzers.Engine;

/// <summary>
/// A buffer reference the engine tracks: a local, a parameter, <c>this</c> or a static member as the root, then a chain
/// of fields or properties (<c>this.Owner.Buffer</c>). Two keys are the same buffer only when every symbol agrees.
/// </summary>
internal sealed class BufferKey : IEquatable<BufferKey>
{
    public BufferKey(ISymbol? root, ImmutableArray<ISymbol> members, string display)
    {
        Root = root;
        Members = members;
        Display = display;
    }

    /// <summary>The local or parameter at the root, or null for <c>this</c> (or a static member as the first member).</summary>
    public ISymbol? Root { get; }

    public ImmutableArray<ISymbol> Members { get; }

    /// <summary>How the buffer is written in source, for messages.</summary>
    public string Display { get; }

    /// <summary>Whether the chain starts at <c>this</c> (including implicit <c>this</c>).</summary>
    public bool IsThisRooted => Root is null && Members.Length > 0 && !Members[0].IsStatic;

    public BufferKey Append(ISymbol member, string display) => new(Root, Members.Add(member), display);

    public bool Equals(BufferKey? other)
    {
        if (other is null || !SymbolEqualityComparer.Default.Equals(Root, other.Root) || Members.Length != other.Members.Length)
        {
            return false;
        }

        for (int i = 0; i < Members.Length; i++)
        {
            if (!SymbolEqualityComparer.Default.Equals(Members[i], other.Members[i]))
            {
                return false;
            }
        }

        return true;
    }

    public override bool Equals(object? obj) => Equals(obj as BufferKey);

    public override int GetHashCode()
    {
        int hash = Root is null ? 17 : SymbolEqualityComparer.Default.GetHashCode(Root);
        foreach (ISymbol member in Members)
        {
            hash = unchecked((hash * 31) + SymbolEqualityComparer.Default.GetHashCode(member));
        }

        return hash;
    }

    public override string ToString() => Display;
}
