// The twelve rules against their documentation: a descriptor for each, its help link and page (title, default severity,
// the sections, how to configure it), the README's rule table and the release tracking.
using System;
using System.IO;
using System.Linq;
using DmaBuf.Analyzers;
using Microsoft.CodeAnalysis;

namespace DmaBuf.Reliability.Tests;

/// <summary>Every descriptor has its help link and page, the page agrees with the descriptor, and the README links it.</summary>
public sealed class RulePageTests
{
    public static TheoryData<string> Ids => new(Descriptors().Select(d => d.Id).Distinct());

    private static string Root => DmaBuf.Tests.Repository.Root();

    [Fact]
    public void EveryRuleOfTheDesignHasADescriptor()
    {
        Assert.Equal(Enumerable.Range(1, 12).Select(i => $"DMA{i:D4}"), Descriptors().Select(d => d.Id).Distinct().OrderBy(id => id));
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void TheHelpLinkPointsAtThePageAndThePageMatchesTheDescriptor(string id)
    {
        DiagnosticDescriptor descriptor = Descriptors().First(d => d.Id == id);
        Assert.Equal(RuleIdentifiers.GetHelpUri(id), descriptor.HelpLinkUri);
        Assert.EndsWith($"docs/rules/{id}.md", descriptor.HelpLinkUri, StringComparison.Ordinal);

        string page = Path.Combine(Root, "docs", "rules", id + ".md");
        Assert.True(File.Exists(page), $"{page} is missing");
        string[] lines = File.ReadAllLines(page);
        Assert.Equal($"# {id}: {descriptor.Title}", lines[0]);
        Assert.Contains(lines, line => line == $"| Default severity | {descriptor.DefaultSeverity} |");
        foreach (string section in new[] { "## What is flagged", "## Why", "## Wrong", "## Right", "## How to fix", "## Configure or suppress" })
        {
            Assert.Contains(section, lines);
        }

        Assert.Contains($"dotnet_diagnostic.{id}.severity", File.ReadAllText(page), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void TheReadmeRuleTableLinksThePage(string id)
    {
        string readme = File.ReadAllText(Path.Combine(Root, "README.md"));
        Assert.Contains($"[{id}](docs/rules/{id}.md)", readme, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void ReleaseTrackingListsTheRule(string id)
    {
        string unshipped = File.ReadAllText(Path.Combine(Root, "analyzers", "AnalyzerReleases.Unshipped.md"));
        string shipped = File.ReadAllText(Path.Combine(Root, "analyzers", "AnalyzerReleases.Shipped.md"));
        Assert.True(unshipped.Contains(id + " ", StringComparison.Ordinal) || shipped.Contains(id + " ", StringComparison.Ordinal));
    }

    private static DiagnosticDescriptor[] Descriptors() =>
        AnalyzerHost.Analyzers.SelectMany(a => a.SupportedDiagnostics).ToArray();
}
