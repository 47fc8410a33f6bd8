// An identity comparer for operations that hashes by syntax position; used by the engine's dictionaries keyed by
// operation.
using System.Collections.Generic;
using Microsoft.CodeAnalysis;

namespace DmaBuf.Analyzers.Engine;

/// <summary>
/// Operations compared by identity, as the default comparer does, but hashed by where their syntax starts: the first
/// identity hash of an object is a slow runtime call, and each body's operations are new objects.
/// </summary>
internal sealed class OperationIdentity : IEqualityComparer<IOperation>
{
    public static OperationIdentity Comparer { get; } = new();

    public bool Equals(IOperation? x, IOperation? y) => ReferenceEquals(x, y);

    public int GetHashCode(IOperation operation) => operation.Syntax.SpanStart;
}
