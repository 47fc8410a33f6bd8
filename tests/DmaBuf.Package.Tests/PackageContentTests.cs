// What the packed packages hold: a consistent pair from packing the runtime alone, the package page (README with
// absolute links, icon, release notes, tags), the rule pages on disk, links from the one repository property, and
// symbols with /_/ paths and source link; plus a trimmed consumer that publishes with no trim warning.
using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Reflection.Metadata;
using System.Text;
using System.Threading.Tasks;
using System.Xml.Linq;

namespace DmaBuf.Package.Tests;

[Collection(nameof(PackedPackages))]
public sealed class PackageContentTests
{
    private static readonly string[] RuleIds = Enumerable.Range(1, 11).Select(i => $"DMA{i:D4}").ToArray();

    // The source-link custom debug information of a portable PDB.
    private static readonly Guid SourceLinkKind = new("CC110556-A091-4D38-9FEC-25AB9A351A6A");

    private readonly PackageFixture _fixture;

    public PackageContentTests(PackageFixture fixture) => _fixture = fixture;

    private string PackagePath(string id, string extension = ".nupkg") => Path.Combine(_fixture.Feed, $"{id}.{_fixture.Version}{extension}");

    private XElement Metadata(string id)
    {
        using ZipArchive package = ZipFile.OpenRead(PackagePath(id));
        using Stream nuspec = package.GetEntry(id + ".nuspec")!.Open();
        XElement root = XDocument.Load(nuspec).Root!;
        return root.Elements().Single(e => e.Name.LocalName == "metadata");
    }

    private static string Value(XElement metadata, string name) =>
        metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value ?? "";

    private string Entry(string id, string path)
    {
        using ZipArchive package = ZipFile.OpenRead(PackagePath(id));
        ZipArchiveEntry entry = package.GetEntry(path) ?? throw new Xunit.Sdk.XunitException($"{id} has no {path}");
        using var reader = new StreamReader(entry.Open());
        return reader.ReadToEnd();
    }

    private string[] Entries(string id)
    {
        using ZipArchive package = ZipFile.OpenRead(PackagePath(id));
        return package.Entries.Select(e => e.FullName).ToArray();
    }

    [Fact]
    public void PackingTheRuntimeAloneGivesTheAnalyzerPackageOfTheSameVersion()
    {
        Assert.True(File.Exists(PackagePath("DmaBuf.Analyzers")), "packing the runtime did not pack DmaBuf.Analyzers");

        XElement dependency = Metadata("DmaBuf.Runtime").Descendants().Single(e => e.Name.LocalName == "dependency");
        Assert.Equal("DmaBuf.Analyzers", dependency.Attribute("id")!.Value);
        Assert.Equal(_fixture.Version, dependency.Attribute("version")!.Value);
        // Every asset flows, analyzers included (a project reference's default would exclude them).
        Assert.Equal("All", dependency.Attribute("include")!.Value);
        Assert.Null(dependency.Attribute("exclude"));
    }

    [Fact]
    public void TheAnalyzerPackageHoldsTheAssembliesAndTheRulePages()
    {
        string[] entries = Entries("DmaBuf.Analyzers");

        Assert.Contains("analyzers/dotnet/cs/DmaBuf.Analyzers.dll", entries);
        Assert.Contains("analyzers/dotnet/cs/DmaBuf.CodeFixes.dll", entries);
        Assert.DoesNotContain(entries, e => e.StartsWith("lib/", StringComparison.Ordinal));
        foreach (string id in RuleIds)
        {
            Assert.StartsWith($"# {id}: ", Entry("DmaBuf.Analyzers", $"docs/rules/{id}.md"), StringComparison.Ordinal);
        }

        Assert.Contains("docs/rules/configuration.md", entries);
    }

    [Theory]
    [InlineData("DmaBuf.Runtime")]
    [InlineData("DmaBuf.Analyzers")]
    public void ThePackagePageHasItsReadmeIconReleaseNotesAndLinksFromTheRepositoryProperty(string id)
    {
        XElement metadata = Metadata(id);
        Assert.Equal("README.md", Value(metadata, "readme"));
        Assert.Equal("icon.png", Value(metadata, "icon"));
        Assert.Equal(_fixture.RepositoryUrl, Value(metadata, "projectUrl"));
        XElement repository = metadata.Elements().Single(e => e.Name.LocalName == "repository");
        Assert.Equal(_fixture.RepositoryUrl, repository.Attribute("url")!.Value);
        Assert.Matches("^[0-9a-f]{40}$", repository.Attribute("commit")!.Value);
        Assert.StartsWith("## 0.1.0", Value(metadata, "releaseNotes"), StringComparison.Ordinal);

        string readme = Entry(id, "README.md");
        Assert.DoesNotContain("{{", readme, StringComparison.Ordinal);
        Assert.DoesNotContain("Quick start", readme, StringComparison.Ordinal);
        Assert.Contains("dotnet add package DmaBuf.Runtime", readme, StringComparison.Ordinal);
        foreach (string rule in RuleIds)
        {
            Assert.Contains($"[{rule}]({_fixture.DocsUrl}docs/rules/{rule}.md)", readme, StringComparison.Ordinal);
        }

        using ZipArchive package = ZipFile.OpenRead(PackagePath(id));
        using var icon = new MemoryStream();
        using (Stream entry = package.GetEntry("icon.png")!.Open())
        {
            entry.CopyTo(icon);
        }

        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, icon.ToArray()[..8]);
    }

    [Fact]
    public void TheRuntimeIsNotTaggedAsAnAnalyzer()
    {
        string[] tags = Value(Metadata("DmaBuf.Runtime"), "tags").Split(' ');

        Assert.Contains("dma-buf", tags);
        Assert.DoesNotContain("analyzers", tags);
    }

    [Fact]
    public void TheSymbolPackageHasDeterministicPathsAndSourceLink()
    {
        using ZipArchive symbols = ZipFile.OpenRead(PackagePath("DmaBuf.Runtime", ".snupkg"));
        using var pdb = new MemoryStream();
        using (Stream entry = symbols.GetEntry("lib/net8.0/DmaBuf.Runtime.pdb")!.Open())
        {
            entry.CopyTo(pdb);
        }

        pdb.Position = 0;
        using MetadataReaderProvider provider = MetadataReaderProvider.FromPortablePdbStream(pdb);
        MetadataReader reader = provider.GetMetadataReader();
        List<string> documents = reader.Documents.Select(d => reader.GetString(reader.GetDocument(d).Name)).ToList();
        Assert.Contains("/_/runtime/DmaBuffer.cs", documents);
        // Every file of the repository is under /_/; only files generated into this test's own --artifacts-path,
        // outside the repository, keep their path (a build without --artifacts-path generates them under /_/ too).
        string repository = DmaBuf.Tests.Repository.Root();
        Assert.All(documents, d => Assert.True(d.StartsWith("/_/", StringComparison.Ordinal) || d.StartsWith(_fixture.Root, StringComparison.Ordinal), d));
        Assert.DoesNotContain(documents, d => d.Contains(repository, StringComparison.Ordinal));

        string sourceLink = reader.CustomDebugInformation
            .Select(reader.GetCustomDebugInformation)
            .Where(c => reader.GetGuid(c.Kind) == SourceLinkKind)
            .Select(c => Encoding.UTF8.GetString(reader.GetBlobBytes(c.Value)))
            .Single();
        Assert.Contains("\"/_/*\":\"https://raw.githubusercontent.com/", sourceLink, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATrimmedConsumerPublishesWithNoTrimWarningAndRuns()
    {
        const string program = """
            using DmaBuf;

            var buffer = DmaBuffer.Export(new SystemHeapExporter(), 2 * DmaBuffer.PageSize);
            using (buffer.CpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice))
            using (var page = buffer.KmapAtomic(1))
            {
                Console.WriteLine("page " + page.PageNumber + " of " + page.Span.Length + " bytes");
            }

            buffer.Put();
            """;
        // TrimmerSingleWarn=false: a warning is reported where it is, not folded into one per assembly.
        string consumer = _fixture.CreateConsumer(
            "Trimmed",
            program,
            "<PublishTrimmed>true</PublishTrimmed><TrimmerSingleWarn>false</TrimmerSingleWarn><RuntimeIdentifier>linux-x64</RuntimeIdentifier>",
            withNuGetOrg: true);

        DotNetResult publish = await DotNet.RunAsync(consumer, _fixture.Environment, "publish", "-c", "Release", "-o", "out");

        Assert.True(publish.ExitCode == 0, publish.ToString());
        Assert.Contains("Optimizing assemblies for size", publish.Output, StringComparison.Ordinal);
        Assert.DoesNotMatch("warning IL[0-9]{4}", publish.Output);
        var run = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(Path.Combine(consumer, "out", "Trimmed"))
        {
            RedirectStandardOutput = true,
        })!;
        string output = await run.StandardOutput.ReadToEndAsync();
        await run.WaitForExitAsync();
        Assert.Equal(0, run.ExitCode);
        Assert.Equal("page 1 of 4096 bytes", output.Trim());
    }
}
