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
    private readonly ConcurrentDictionary<SyntaxTree, Named> _positions = new();
    private readonly object _gate = new();
    private Dictionary<int, string[]>? _names;

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

        int[] positions = NamedIn(tree, cancellationToken).Positions;
        int index = Array.BinarySearch(positions, codeBlock.SpanStart);
        int first = index >= 0 ? index : ~index;
        return first < positions.Length && positions[first] < codeBlock.Span.End;
    }

    /// <summary>
    /// The trees that may call <paramref name="name"/>, a method declared in a tree that mentions the runtime: those
    /// trees, and the others whose text names it. Null when the name is not such a method's (then any tree may).
    /// </summary>
    public IEnumerable<SyntaxTree>? TreesThatMayName(string name, CancellationToken cancellationToken)
    {
        Dictionary<int, string[]> names = Names(cancellationToken);
        if (!names.TryGetValue(Hash(name), out string[]? candidates) || Array.IndexOf(candidates, name) < 0)
        {
            return null;
        }

        return _compilation.SyntaxTrees.Where(t => Mentions(t, cancellationToken) || NamedIn(t, cancellationToken).Names.Contains(name));
    }

    private Named NamedIn(SyntaxTree tree, CancellationToken cancellationToken) => _positions.GetOrAdd(tree, t => Positions(t, cancellationToken));

    private bool Mentions(SyntaxTree tree, CancellationToken cancellationToken) =>
        _mentioning.GetOrAdd(tree, t =>
        {
            string text = t.GetText(cancellationToken).ToString();
            return Distinctive.Any(name => text.IndexOf(name, StringComparison.Ordinal) >= 0);
        });

    /// <summary>
    /// Where the tree names one of <see cref="Names"/>, in order: one pass over its text, identifiers only. An
    /// identifier is hashed as it is read and compared only when its hash is a name's, so nothing is allocated for the
    /// identifiers of a large library that name none.
    /// </summary>
    private Named Positions(SyntaxTree tree, CancellationToken cancellationToken)
    {
        Dictionary<int, string[]> names = Names(cancellationToken);
        string source = tree.GetText(cancellationToken).ToString();
        List<int>? found = null;
        HashSet<string>? named = null;
        for (int i = 0; i < source.Length; i++)
        {
            char c = source[i];
            if (!IsIdentifierStart(c) || (i > 0 && IsIdentifierPart(source[i - 1])))
            {
                continue;
            }

            int hash = HashStart;
            int end = i;
            while (end < source.Length && IsIdentifierPart(source[end]))
            {
                hash = Hash(hash, source[end]);
                end++;
            }

            if (names.TryGetValue(hash, out string[]? candidates) && Match(candidates, source, i, end - i) is { } name)
            {
                (found ??= new List<int>()).Add(i);
                (named ??= new HashSet<string>(StringComparer.Ordinal)).Add(name);
            }

            i = end - 1;
        }

        return found is null ? Named.None : new Named(found.ToArray(), named!);
    }

    private static string? Match(string[] candidates, string source, int start, int length)
    {
        foreach (string candidate in candidates)
        {
            if (candidate.Length == length && string.CompareOrdinal(candidate, 0, source, start, length) == 0)
            {
                return candidate;
            }
        }

        return null;
    }

    private const int HashStart = unchecked((int)2166136261);

    private static int Hash(int hash, char c) => unchecked((hash ^ c) * 16777619);

    private static int Hash(string name)
    {
        int hash = HashStart;
        foreach (char c in name)
        {
            hash = Hash(hash, c);
        }

        return hash;
    }

    /// <summary>The methods and properties declared in the trees that mention the runtime, by their hash.</summary>
    private Dictionary<int, string[]> Names(CancellationToken cancellationToken)
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

            _names = names.GroupBy(Hash).ToDictionary(g => g.Key, g => g.ToArray());
            return _names;
        }
    }

    /// <summary>Where a tree that does not mention the runtime names a method or property of one that does, and which.</summary>
    private sealed class Named
    {
        public static readonly Named None = new(Array.Empty<int>(), new HashSet<string>());

        public Named(int[] positions, HashSet<string> names)
        {
            Positions = positions;
            Names = names;
        }

        public int[] Positions { get; }

        public HashSet<string> Names { get; }
    }

    private static bool IsIdentifierStart(char c) => c < 128 ? (uint)((c | 0x20) - 'a') <= 'z' - 'a' || c == '_' : char.IsLetter(c);

    private static bool IsIdentifierPart(char c) => c < 128 ? (uint)((c | 0x20) - 'a') <= 'z' - 'a' || (uint)(c - '0') <= 9 || c == '_' : char.IsLetterOrDigit(c);
}
