// Which methods of the compilation are called from somewhere in it: a method that leaves CPU access begun on its
// parameter hands that obligation to its callers, and is judged itself only when it has none. Only the trees whose
// text contains the method's name are looked at (for a method of a tree that mentions the runtime, the pre-filter's
// scan already says which); each of those is indexed once (invocations by the name they call),
// and a method's candidate callers are bound only when it is asked about.
using System;
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
    private readonly ConcurrentDictionary<SyntaxTree, Dictionary<string, List<InvocationExpressionSyntax>>> _byTree = new();

    private readonly RuntimeMentions _mentions;

    public CallerIndex(Compilation compilation, MethodBodies bodies, RuntimeMentions mentions)
    {
        _compilation = compilation;
        _bodies = bodies;
        _mentions = mentions;
    }

    /// <summary>Whether some invocation in the compilation calls <paramref name="method"/>.</summary>
    public bool HasCallers(IMethodSymbol method, CancellationToken cancellationToken)
    {
        IMethodSymbol definition = method.OriginalDefinition;
        return _called.GetOrAdd(definition, m => Find(m, cancellationToken));
    }

    private bool Find(IMethodSymbol method, CancellationToken cancellationToken)
    {
        // A method of a tree that mentions the runtime is named only where the pre-filter saw its name.
        foreach (SyntaxTree tree in _mentions.TreesThatMayName(method.Name, cancellationToken) ?? _compilation.SyntaxTrees)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (tree.GetText(cancellationToken).ToString().IndexOf(method.Name, StringComparison.Ordinal) < 0 ||
                !Index(tree, cancellationToken).TryGetValue(method.Name, out List<InvocationExpressionSyntax>? candidates))
            {
                continue;
            }

            foreach (InvocationExpressionSyntax candidate in candidates)
            {
                if (_bodies.Model(candidate.SyntaxTree).GetSymbolInfo(candidate, cancellationToken).Symbol is IMethodSymbol target &&
                    SymbolEqualityComparer.Default.Equals(target.OriginalDefinition, method) || IsReducedFrom(candidate, method, cancellationToken))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private bool IsReducedFrom(InvocationExpressionSyntax candidate, IMethodSymbol method, CancellationToken cancellationToken) =>
        _bodies.Model(candidate.SyntaxTree).GetSymbolInfo(candidate, cancellationToken).Symbol is IMethodSymbol { ReducedFrom: { } reduced } &&
        SymbolEqualityComparer.Default.Equals(reduced.OriginalDefinition, method);

    private Dictionary<string, List<InvocationExpressionSyntax>> Index(SyntaxTree tree, CancellationToken cancellationToken) =>
        _byTree.GetOrAdd(tree, t =>
        {
            var byName = new Dictionary<string, List<InvocationExpressionSyntax>>(StringComparer.Ordinal);
            foreach (InvocationExpressionSyntax invocation in t.GetRoot(cancellationToken).DescendantNodes().OfType<InvocationExpressionSyntax>())
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

            return byName;
        });
}
