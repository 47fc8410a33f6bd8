// Seeded fuzzing on broken code: every corpus source with each line dropped, cut short and with tokens torn out, under
// every analyzer and the code fixes of what they report; nothing may throw, within a time budget.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit.Abstractions;

namespace DmaBuf.Reliability.Tests;

/// <summary>
/// Seeded fuzzing of the analyzers and code fixes on broken code: every corpus source with each line dropped in
/// turn, cut at many points, and with tokens torn out. Nothing may throw. The run is bounded: it stops making new
/// variants after <see cref="Budget"/>, and says how many it checked.
/// </summary>
public sealed class AnalyzerFuzzTests
{
    private const int Seed = 1125;
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(60);
    private readonly ITestOutputHelper _output;

    public AnalyzerFuzzTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task NoAnalyzerOrCodeFixThrowsOnBrokenVariantsOfTheTestSources()
    {
        IReadOnlyList<(string Name, string Source)> corpus = FuzzCorpus.Load();
        Assert.NotEmpty(corpus);
        Assert.NotEmpty(AnalyzerHost.Analyzers);

        var random = new Random(Seed);
        var variants = corpus.SelectMany(entry => Variants(entry.Name, entry.Source, random)).ToList();
        Shuffle(variants, random);

        var failures = new List<string>();
        int checkedVariants = 0, fixesTried = 0;
        var clock = Stopwatch.StartNew();
        foreach (var (name, source) in variants)
        {
            if (clock.Elapsed > Budget)
            {
                break;
            }

            var (diagnostics, exceptions) = await AnalyzerHost.AnalyzeAsync(AnalyzerHost.Compile(source));
            failures.AddRange(exceptions.Select(e => $"{name}: {e}"));
            foreach (Diagnostic diagnostic in diagnostics.Where(d => d.Id.StartsWith("DMA", StringComparison.Ordinal)).Take(2))
            {
                fixesTried++;
                failures.AddRange((await AnalyzerHost.ApplyFixesAsync(source, diagnostic)).Select(e => $"{name}: {e}"));
            }

            checkedVariants++;
            if (failures.Count > 0)
            {
                break;
            }
        }

        _output.WriteLine($"{corpus.Count} sources, {variants.Count} variants made, {checkedVariants} analyzed, {fixesTried} diagnostics fixed, seed {Seed}.");
        Assert.Empty(failures);
        Assert.True(checkedVariants >= Math.Min(variants.Count, 100), $"only {checkedVariants} variants were analyzed");
    }

    private static IEnumerable<(string, string)> Variants(string name, string source, Random random)
    {
        string[] lines = source.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            yield return ($"{name} without line {i + 1}", string.Join('\n', lines.Where((_, j) => j != i)));
        }

        for (int i = 0; i < 12; i++)
        {
            int cut = random.Next(source.Length);
            yield return ($"{name} cut at {cut}", source[..cut]);
        }

        SyntaxToken[] tokens = CSharpSyntaxTree.ParseText(source).GetRoot().DescendantTokens().ToArray();
        for (int i = 0; i < 12 && tokens.Length > 0; i++)
        {
            SyntaxToken token = tokens[random.Next(tokens.Length)];
            yield return ($"{name} without token '{token.Text}' at {token.SpanStart}", source.Remove(token.SpanStart, token.Span.Length));
        }
    }

    private static void Shuffle<T>(List<T> items, Random random)
    {
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
