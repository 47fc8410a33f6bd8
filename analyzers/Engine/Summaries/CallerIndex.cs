// Which methods of the compilation are called from somewhere in it: a method that leaves CPU access begun on its
// parameter hands that obligation to its callers, and is judged itself only when it has none. The index is built on
// first use from the syntax of every tree (invocations by the name they call), and a method's callers are bound only
// when it is asked about.
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace DmaBuf.Analyzers.Engine;

internal sealed class CallerIndex
{
    private readonly Compilation _compilation;
    private readonly MethodBodies _bodies;
    private readonly ConcurrentDictionary<IMethodSymbol, bool> _called = new(SymbolEqualityComparer.Default);
    private readonly object _gate = new();
    private Dictionary<string, List<InvocationExpressionSyntax>>? _byName;

    public CallerIndex(Compilation compilation, MethodBodies bodies)
    {
        _compilation = compilation;
        _bodies = bodies;
    }

    /// <summary>Whether some invocation in the compilation calls <paramref name="method"/>.</summary>
    public bool HasCallers(IMethodSymbol method, CancellationToken cancellationToken)
    {
        IMethodSymbol definition = method.OriginalDefinition;
        return _called.GetOrAdd(definition, m => Find(m, cancellationToken));
    }

    private bool Find(IMethodSymbol method, CancellationToken cancellationToken)
    {
        if (!Index(cancellationToken).TryGetValue(method.Name, out List<InvocationExpressionSyntax>? candidates))
        {
            return false;
        }

        foreach (InvocationExpressionSyntax candidate in candidates)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_bodies.Model(candidate.SyntaxTree).GetSymbolInfo(candidate, cancellationToken).Symbol is IMethodSymbol target &&
                SymbolEqualityComparer.Default.Equals(target.OriginalDefinition, method) || IsReducedFrom(candidate, method, cancellationToken))
            {
                return true;
            }
        }

        return false;
    }

    private bool IsReducedFrom(InvocationExpressionSyntax candidate, IMethodSymbol method, CancellationToken cancellationToken) =>
        _bodies.Model(candidate.SyntaxTree).GetSymbolInfo(candidate, cancellationToken).Symbol is IMethodSymbol { ReducedFrom: { } reduced } &&
        SymbolEqualityComparer.Default.Equals(reduced.OriginalDefinition, method);

    private Dictionary<string, List<InvocationExpressionSyntax>> Index(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_byName is not null)
            {
                return _byName;
            }

            var byName = new Dictionary<string, List<InvocationExpressionSyntax>>();
            foreach (SyntaxTree tree in _compilation.SyntaxTrees)
            {
                foreach (InvocationExpressionSyntax invocation in tree.GetRoot(cancellationToken).DescendantNodes().OfType<InvocationExpressionSyntax>())
                {
                    string? name = invocation.Expression switch
                    {
                        IdentifierNameSyntax identifier => identifier.Identifier.ValueText,
                        MemberAccessExpressionSyntax member => member.Name.Identifier.ValueText,
                        MemberBindingExpressionSyntax binding => binding.Name.Identifier.ValueText,
                        GenericNameSyntax generic => generic.Identifier.ValueText,
                        _ => null,
                    };
                    if (name is null)
                    {
                        continue;
                    }

                    if (!byName.TryGetValue(name, out List<InvocationExpressionSyntax>? list))
                    {
                        list = new List<InvocationExpressionSyntax>();
                        byName.Add(name, list);
                    }

                    list.Add(invocation);
                }
            }

            _byName = byName;
            return byName;
        }
    }
}
