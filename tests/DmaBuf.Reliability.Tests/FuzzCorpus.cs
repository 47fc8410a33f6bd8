// The fuzz corpus: the samples' sources and every multi-line string of the analyzer and code-fix tests that uses the
// DmaBuf API, with the test markup stripped.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace DmaBuf.Reliability.Tests;

/// <summary>
/// The fuzz corpus: every C# test source of the analyzer and code-fix tests (the string literals that use the
/// DmaBuf API, with their diagnostic markup removed) and the samples.
/// </summary>
internal static partial class FuzzCorpus
{
    public static IReadOnlyList<(string Name, string Source)> Load()
    {
        string root = DmaBuf.Tests.Repository.Root();
        var corpus = new List<(string, string)>();
        foreach (string file in Directory.EnumerateFiles(Path.Combine(root, "samples"), "*.cs", SearchOption.AllDirectories).Where(NotBuildOutput).OrderBy(f => f, StringComparer.Ordinal))
        {
            corpus.Add((Path.GetRelativePath(root, file), File.ReadAllText(file)));
        }

        foreach (string project in new[] { "DmaBuf.Analyzers.Tests", "DmaBuf.CodeFixes.Tests" })
        {
            string directory = Path.Combine(root, "tests", project);
            if (!Directory.Exists(directory))
            {
                continue;
            }

            foreach (string file in Directory.EnumerateFiles(directory, "*.cs", SearchOption.AllDirectories).Where(NotBuildOutput).OrderBy(f => f, StringComparer.Ordinal))
            {
                SyntaxNode tree = CSharpSyntaxTree.ParseText(File.ReadAllText(file)).GetRoot();
                int index = 0;
                foreach (LiteralExpressionSyntax literal in tree.DescendantNodes().OfType<LiteralExpressionSyntax>())
                {
                    if (literal.Token.Value is string text && text.Contains("DmaBuf", StringComparison.Ordinal) && text.Contains('\n'))
                    {
                        corpus.Add(($"{Path.GetRelativePath(root, file)}#{index++}", StripMarkup(text)));
                    }
                }
            }
        }

        return corpus;
    }

    /// <summary>Removes the testing framework's markup: <c>{|DMA0001:code|}</c>, <c>[|code|]</c>, <c>$$</c>.</summary>
    public static string StripMarkup(string source) => Markup().Replace(source, string.Empty);

    private static bool NotBuildOutput(string path) =>
        !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
        && !path.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal);

    [GeneratedRegex(@"\{\|[A-Za-z0-9#]+:|\|\}|\[\||\|\]|\$\$")]
    private static partial Regex Markup();
}
