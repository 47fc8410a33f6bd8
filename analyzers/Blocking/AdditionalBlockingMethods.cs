// The user's own blocking methods, read from the DMA0005 option in .editorconfig/.globalconfig; nothing else reads
// options.
using System;
using System.Collections.Concurrent;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace DmaBuf.Analyzers.Blocking;

/// <summary>
/// The user's own blocking methods, from the <c>.editorconfig</c> / <c>.globalconfig</c> option
/// <c>dotnet_code_quality.DMA0005.additional_blocking_methods</c>. The value lists methods separated by <c>|</c> or
/// <c>,</c>, each either a documentation-comment id (<c>M:MyCompany.Io.Port.Read(System.Int32)</c>, that overload;
/// <c>P:</c> ids name a property, both accessors) or <c>Namespace.Type.Method</c> (every overload; nested types with
/// <c>+</c>, generic types with their arity, <c>Namespace.Type`1.Method</c>). Entries that name nothing are ignored.
/// </summary>
/// <remarks>
/// The option is read per syntax tree (so an <c>.editorconfig</c> section applies to the code in its files), falling
/// back to the global options. Each distinct value is parsed once per compilation.
/// </remarks>
internal sealed class AdditionalBlockingMethods
{
    /// <summary>The option's key.</summary>
    public const string OptionName = "dotnet_code_quality.DMA0005.additional_blocking_methods";

    private readonly Compilation _compilation;
    private readonly AnalyzerOptions _options;
    private readonly ConcurrentDictionary<string, ImmutableHashSet<IMethodSymbol>> _parsed = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<SyntaxTree, ImmutableHashSet<IMethodSymbol>> _perTree = new();
    private readonly Lazy<ImmutableHashSet<IMethodSymbol>> _global;

    public AdditionalBlockingMethods(Compilation compilation, AnalyzerOptions options)
    {
        _compilation = compilation;
        _options = options;
        _global = new Lazy<ImmutableHashSet<IMethodSymbol>>(ResolveGlobal, System.Threading.LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>
    /// Whether <paramref name="method"/> (or a method it overrides) is listed in the option that applies to
    /// <paramref name="tree"/>, the tree of the code that calls it, or in the global options when there is no tree.
    /// </summary>
    /// <param name="method">The called method.</param>
    /// <param name="tree">The tree of the call, or null for the global options alone.</param>
    /// <returns>true when the user declared it blocking.</returns>
    public bool Contains(IMethodSymbol method, SyntaxTree? tree)
    {
        ImmutableHashSet<IMethodSymbol> listed = tree is null ? _global.Value : _perTree.GetOrAdd(tree, Resolve);
        if (listed.IsEmpty)
        {
            return false;
        }

        for (IMethodSymbol? current = method; current is not null; current = current.OverriddenMethod)
        {
            if (listed.Contains(current.OriginalDefinition))
            {
                return true;
            }
        }

        return false;
    }

    private ImmutableHashSet<IMethodSymbol> Resolve(SyntaxTree tree)
    {
        AnalyzerConfigOptionsProvider provider = _options.AnalyzerConfigOptionsProvider;
        if (!provider.GetOptions(tree).TryGetValue(OptionName, out string? value) &&
            !provider.GlobalOptions.TryGetValue(OptionName, out value))
        {
            return ImmutableHashSet<IMethodSymbol>.Empty;
        }

        return value is null ? ImmutableHashSet<IMethodSymbol>.Empty : _parsed.GetOrAdd(value, Parse);
    }

    private ImmutableHashSet<IMethodSymbol> ResolveGlobal() =>
        _options.AnalyzerConfigOptionsProvider.GlobalOptions.TryGetValue(OptionName, out string? value) && value is not null
            ? _parsed.GetOrAdd(value, Parse)
            : ImmutableHashSet<IMethodSymbol>.Empty;

    private ImmutableHashSet<IMethodSymbol> Parse(string value)
    {
        ImmutableHashSet<IMethodSymbol>.Builder result = ImmutableHashSet.CreateBuilder<IMethodSymbol>(SymbolEqualityComparer.Default);
        foreach (string raw in value.Split(new[] { '|', ',' }, StringSplitOptions.RemoveEmptyEntries))
        {
            string entry = raw.Trim();
            if (entry.Length == 0)
            {
                continue;
            }

            if (entry.Length > 2 && entry[1] == ':')
            {
                foreach (ISymbol symbol in DocumentationCommentId.GetSymbolsForDeclarationId(entry, _compilation))
                {
                    AddMethods(result, symbol);
                }

                continue;
            }

            if (entry.IndexOf('(') >= 0)
            {
                foreach (ISymbol symbol in DocumentationCommentId.GetSymbolsForDeclarationId("M:" + entry, _compilation))
                {
                    AddMethods(result, symbol);
                }

                continue;
            }

            int dot = entry.LastIndexOf('.');
            if (dot <= 0 || dot == entry.Length - 1)
            {
                continue;
            }

            string typeName = entry.Substring(0, dot);
            string memberName = entry.Substring(dot + 1);
            foreach (INamedTypeSymbol type in _compilation.GetTypesByMetadataName(typeName))
            {
                foreach (ISymbol member in type.GetMembers(memberName))
                {
                    AddMethods(result, member);
                }
            }
        }

        return result.ToImmutable();
    }

    private static void AddMethods(ImmutableHashSet<IMethodSymbol>.Builder result, ISymbol symbol)
    {
        switch (symbol)
        {
            case IMethodSymbol method:
                result.Add(method.OriginalDefinition);
                break;
            case IPropertySymbol property:
                AddIfNotNull(result, property.GetMethod);
                AddIfNotNull(result, property.SetMethod);
                break;
            case IEventSymbol @event:
                AddIfNotNull(result, @event.AddMethod);
                AddIfNotNull(result, @event.RemoveMethod);
                break;
        }
    }

    private static void AddIfNotNull(ImmutableHashSet<IMethodSymbol>.Builder result, IMethodSymbol? method)
    {
        if (method is not null)
        {
            result.Add(method.OriginalDefinition);
        }
    }
}
