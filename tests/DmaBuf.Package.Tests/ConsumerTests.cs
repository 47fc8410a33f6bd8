// A consumer of the packed packages with the real CLI: the build's warnings and SARIF log with the fork's help links,
// dotnet format fixing DMA0001, -warnaserror failing the build, and .editorconfig silencing one rule.
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;

namespace DmaBuf.Package.Tests;

/// <summary>
/// A new user's first steps, with the real dotnet CLI: install DmaBuf.Runtime from a feed, build, read the warnings
/// and the SARIF log, fail the build with -warnaserror, and silence a rule in .editorconfig.
/// </summary>
[Collection(nameof(PackedPackages))]
public sealed class ConsumerTests
{
    // One wrong method per rule the consumer checks: DMA0001 (the early return leaves the access begun) and
    // DMA0008 (an exporter's atomic kmap callback takes a lock).
    private const string Program = """
        using DmaBuf;

        var buffer = DmaBuffer.Export(new SystemHeapExporter(), DmaBuffer.PageSize);
        Console.WriteLine(Sample.FirstByte(buffer, empty: true));
        buffer.Put();

        static class Sample
        {
            public static int FirstByte(DmaBuffer buf, bool empty)
            {
                buf.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
                if (empty)
                {
                    return 0;
                }

                var page = buf.Kmap(0);
                int first = page.Span[0];
                buf.Kunmap(0, page);
                buf.EndCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
                return first;
            }
        }

        sealed class LockingExporter : DmaBufExporter
        {
            private readonly object _gate = new();
            private readonly nint[] _pages = new nint[1];

            protected override ScatterGatherTable MapDmaBuf(DmaBufAttachment attachment, DmaDataDirection direction) => throw new NotSupportedException();

            protected override void UnmapDmaBuf(DmaBufAttachment attachment, ScatterGatherTable table) { }

            protected override void Release(DmaBuffer buffer) { }

            protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber)
            {
                lock (_gate)
                {
                    return _pages[pageNumber];
                }
            }

            protected override nint Kmap(DmaBuffer buffer, long pageNumber) => _pages[pageNumber];
        }
        """;

    private readonly PackageFixture _fixture;

    public ConsumerTests(PackageFixture fixture) => _fixture = fixture;

    [Fact]
    public async Task TheBuildPrintsTheWarningsAndTheSarifLogCarriesThemWithTheirHelpLinks()
    {
        string consumer = _fixture.CreateConsumer("Consumer", Program);
        string sarif = Path.Combine(consumer, "build.sarif");

        DotNetResult build = await DotNet.RunAsync(consumer, _fixture.Environment, "build", "-p:ErrorLog=" + sarif + "%2Cversion=2.1");

        Assert.True(build.ExitCode == 0, build.ToString());
        Assert.Contains("warning DMA0001", build.Output);
        Assert.Contains("warning DMA0008", build.Output);
        Assert.DoesNotContain("AD0001", build.Output);
        Assert.DoesNotContain("CS8032", build.Output);

        using JsonDocument log = JsonDocument.Parse(File.ReadAllText(sarif));
        JsonElement run = log.RootElement.GetProperty("runs")[0];
        string[] reported = run.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("ruleId").GetString()!).ToArray();
        Assert.Contains("DMA0001", reported);
        Assert.Contains("DMA0008", reported);
        var helpLinks = run.GetProperty("tool").GetProperty("driver").GetProperty("rules").EnumerateArray()
            .Where(r => r.GetProperty("id").GetString()!.StartsWith("DMA", System.StringComparison.Ordinal))
            .ToDictionary(r => r.GetProperty("id").GetString()!, r => r.GetProperty("helpUri").GetString());
        // The packages were built for a fork (DmaBufRepositoryUrl): the links name its pages.
        Assert.Equal(_fixture.DocsUrl + "docs/rules/DMA0001.md", helpLinks["DMA0001"]);
        Assert.Equal(_fixture.DocsUrl + "docs/rules/DMA0008.md", helpLinks["DMA0008"]);
    }

    [Fact]
    public async Task DotnetFormatFixesDma0001AndTheResultBuildsClean()
    {
        string consumer = _fixture.CreateConsumer("Formatted", Program);
        File.WriteAllText(Path.Combine(consumer, ".editorconfig"), "root = true\n\n[*.cs]\ndotnet_diagnostic.DMA0008.severity = none\n");
        string before = File.ReadAllText(Path.Combine(consumer, "Program.cs"));

        DotNetResult format = await DotNet.RunAsync(consumer, _fixture.Environment, "format", "analyzers", "--diagnostics", "DMA0001", "--severity", "warn");
        DotNetResult build = await DotNet.RunAsync(consumer, _fixture.Environment, "build", "-warnaserror");

        Assert.True(format.ExitCode == 0, format.ToString());
        string after = File.ReadAllText(Path.Combine(consumer, "Program.cs"));
        Assert.True(before != after, format.ToString());
        Assert.Contains("CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice)", after);
        Assert.DoesNotContain("BeginCpuAccess", after);
        Assert.True(build.ExitCode == 0, build.ToString());
        Assert.DoesNotContain("DMA0001", build.Output);
    }

    [Fact]
    public async Task WarnAsErrorFailsTheBuild()
    {
        string consumer = _fixture.CreateConsumer("Strict", Program);

        DotNetResult build = await DotNet.RunAsync(consumer, _fixture.Environment, "build", "-warnaserror");

        Assert.True(build.ExitCode != 0, build.ToString());
        Assert.Contains("error DMA0001", build.Output);
    }

    [Fact]
    public async Task AnEditorConfigSeverityOfNoneSilencesThatRuleOnly()
    {
        string consumer = _fixture.CreateConsumer("Configured", Program);
        File.WriteAllText(Path.Combine(consumer, ".editorconfig"), "root = true\n\n[*.cs]\ndotnet_diagnostic.DMA0001.severity = none\n");

        DotNetResult build = await DotNet.RunAsync(consumer, _fixture.Environment, "build");

        Assert.True(build.ExitCode == 0, build.ToString());
        Assert.DoesNotContain("DMA0001", build.Output);
        Assert.Contains("warning DMA0008", build.Output);
    }
}
