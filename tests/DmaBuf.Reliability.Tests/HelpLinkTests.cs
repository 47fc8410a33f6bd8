// Every link a build produces (the analyzers' help links, the runtime exceptions' HelpLink) resolves to a page in
// this repository, and all of them come from the one MSBuild property DmaBufRepositoryUrl.
using System;
using System.IO;
using System.Linq;
using System.Reflection;
using DmaBuf.Analyzers;

namespace DmaBuf.Reliability.Tests;

[Collection(nameof(ProcessWide))]
public sealed class HelpLinkTests
{
    public static TheoryData<string> Ids => new(AnalyzerHost.Analyzers.SelectMany(a => a.SupportedDiagnostics).Select(d => d.Id).Distinct());

    private static string Root => DmaBuf.Tests.Repository.Root();

    /// <summary>The docs base the runtime was built with (assembly metadata written from DmaBufDocsUrl).</summary>
    private static string DocsBase(Assembly assembly) =>
        assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "DmaBufDocsUrl").Value!;

    [Fact]
    public void TheRuntimeAndTheAnalyzersWereBuiltForOneRepository()
    {
        string runtime = DocsBase(typeof(DmaBuffer).Assembly);
        string repository = typeof(DmaBuffer).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "DmaBufRepositoryUrl").Value!;

        Assert.Equal(runtime, DocsBase(typeof(RuleIdentifiers).Assembly));
        Assert.Equal(repository + "/blob/main/", runtime);
        Assert.StartsWith("https://", repository, StringComparison.Ordinal);
        Assert.Equal(RuleIdentifiers.HelpBaseUri, runtime + "docs/rules/");
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void EachAnalyzerHelpLinkResolvesToAPageOfTheRepository(string id)
    {
        string link = AnalyzerHost.Analyzers.SelectMany(a => a.SupportedDiagnostics).First(d => d.Id == id).HelpLinkUri;

        AssertResolves(link);
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void EachRuntimeHelpLinkResolvesToAPageOfTheRepository(string id)
    {
        var e = new DmaBufUsageException(id, "a broken rule");

        Assert.Equal(RuleIdentifiers.GetHelpUri(id), e.HelpLink);
        AssertResolves(e.HelpLink!);
    }

    [Fact]
    public void TheUseAfterPutExceptionLinksItsPage()
    {
        DmaBuffer buffer = DmaBuffer.Export(new SystemHeapExporter(), DmaBuffer.PageSize);
        buffer.Put();

        var e = Assert.Throws<ObjectDisposedException>(() => buffer.Kmap(0));

        Assert.Equal(RuleIdentifiers.GetHelpUri(RuleIdentifiers.UseAfterPut), e.HelpLink);
        AssertResolves(e.HelpLink!);
    }

    private static void AssertResolves(string link)
    {
        string docsBase = DocsBase(typeof(DmaBuffer).Assembly);
        Assert.StartsWith(docsBase, link, StringComparison.Ordinal);
        string relative = link.Substring(docsBase.Length);
        Assert.Matches("^docs/rules/DMA[0-9]{4}\\.md$", relative);
        Assert.True(File.Exists(Path.Combine(Root, relative)), $"{link} names {relative}, which is not in the repository");
    }
}
