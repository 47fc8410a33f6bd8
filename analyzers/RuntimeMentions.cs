// The cheap, text-only pre-filter that keeps the analyzers from paying for code that does not touch a buffer: which
// syntax trees mention the runtime at all (its namespace or its distinctive names), and, in a tree that does not,
// which code blocks name a runtime member or a method declared in a tree that does. A block that passes is then
// bound and checked precisely; a compilation none of whose trees mentions the runtime registers nothing. No
// operation tree, semantic model or syntax node beyond what is asked is built for the rest.
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace DmaBuf.Analyzers;

internal sealed class RuntimeMentions
{
    /// <summary>Text any code that uses the runtime contains: its namespace (a using, a qualified name) or a name only it has.</summary>
    private static readonly string[] Distinctive = { "DmaBuf", "CpuAccess", "Kmap", "Kunmap", "ScatterGatherTable" };

    /// <summary>The one text every compilation that uses the runtime has somewhere: the runtime's namespace.</summary>
    private const string Namespace = "DmaBuf";

    private readonly Compilation _compilation;
    private readonly ConcurrentDictionary<SyntaxTree, bool> _mentioning = new();
    private readonly ConcurrentDictionary<SyntaxTree, int[]> _positions = new();
    private readonly object _gate = new();
    private HashSet<string>? _names;

    private RuntimeMentions(Compilation compilation)
    {
        _compilation = compilation;
    }

    /// <summary>
    /// The mentions of a compilation, or null when none of its trees names the runtime's namespace: code can reach a
    /// buffer only from DmaBuffer.Export or DmaBuffer.Get, which some file of the compilation must then name (with a
    /// using, a global using or a qualified name), so such a compilation has nothing to analyze.
    /// </summary>
    public static RuntimeMentions? Create(Compilation compilation, CancellationToken cancellationToken)
    {
        foreach (SyntaxTree tree in compilation.SyntaxTrees)
        {
            if (tree.GetText(cancellationToken).ToString().IndexOf(Namespace, StringComparison.Ordinal) >= 0)
            {
                return new RuntimeMentions(compilation);
            }
        }

        return null;
    }

    /// <summary>
    /// Whether a code block may touch a buffer: every block of a tree that mentions the runtime may; in another tree, a
    /// block that names a method declared in such a tree (a helper that may take or return a buffer). A buffer reaches
    /// code only from DmaBuffer.Export or Get, so a block of a tree that names neither the runtime nor such a helper
    /// holds none, one hop of helpers deep (a helper of a helper in a third tree is not followed).
    /// </summary>
    public bool MayConcern(SyntaxNode codeBlock, CancellationToken cancellationToken)
    {
        SyntaxTree tree = codeBlock.SyntaxTree;
        if (Mentions(tree, cancellationToken))
        {
            return true;
        }

        int[] positions = _positions.GetOrAdd(tree, t => Positions(t, cancellationToken));
        int index = Array.BinarySearch(positions, codeBlock.SpanStart);
        int first = index >= 0 ? index : ~index;
        return first < positions.Length && positions[first] < codeBlock.Span.End;
    }

    private bool Mentions(SyntaxTree tree, CancellationToken cancellationToken) =>
        _mentioning.GetOrAdd(tree, t =>
        {
            string text = t.GetText(cancellationToken).ToString();
            return Distinctive.Any(name => text.IndexOf(name, StringComparison.Ordinal) >= 0);
        });

    /// <summary>Where the tree names one of <see cref="Names"/>, in order: one pass over its text, identifiers only.</summary>
    private int[] Positions(SyntaxTree tree, CancellationToken cancellationToken)
    {
        HashSet<string> names = Names(cancellationToken);
        SourceText text = tree.GetText(cancellationToken);
        string source = text.ToString();
        var found = new List<int>();
        int lengths = 0;
        foreach (string name in names)
        {
            lengths |= 1 << Math.Min(name.Length, 31);
        }

        for (int i = 0; i < source.Length; i++)
        {
            char c = source[i];
            if (!(char.IsLetter(c) || c == '_') || (i > 0 && IsIdentifierPart(source[i - 1])))
            {
                continue;
            }

            int end = i + 1;
            while (end < source.Length && IsIdentifierPart(source[end]))
            {
                end++;
            }

            int length = end - i;
            if ((lengths & (1 << Math.Min(length, 31))) != 0 && names.Contains(source.Substring(i, length)))
            {
                found.Add(i);
            }

            i = end - 1;
        }

        return found.ToArray();
    }

    /// <summary>The methods and properties declared in the trees that mention the runtime.</summary>
    private HashSet<string> Names(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_names is not null)
            {
                return _names;
            }

            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (SyntaxTree tree in _compilation.SyntaxTrees.Where(t => Mentions(t, cancellationToken)))
            {
                foreach (SyntaxNode node in tree.GetRoot(cancellationToken).DescendantNodes(n => n is not (BlockSyntax or ArrowExpressionClauseSyntax)))
                {
                    switch (node)
                    {
                        case MethodDeclarationSyntax method:
                            names.Add(method.Identifier.ValueText);
                            break;
                        case PropertyDeclarationSyntax property:
                            names.Add(property.Identifier.ValueText);
                            break;
                    }
                }
            }

            _names = names;
            return names;
        }
    }

    private static bool IsIdentifierPart(char c) => char.IsLetterOrDigit(c) || c == '_';
}
