// The data-driven tests over the real-code tiers: one test per case file, and one per tier that counts the findings
// (true and false reports, misses) for the whole tier. Adding a case is adding a file under RealCode/<tier>/.
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using Xunit.Abstractions;

namespace DmaBuf.Analyzers.Tests.RealCode;

public class RealCodeTests
{
    private readonly ITestOutputHelper _output;

    public RealCodeTests(ITestOutputHelper output)
    {
        _output = output;
    }

    public static IEnumerable<object[]> KernelCases() => RealCodeCorpus.Cases(RealCodeCorpus.Kernel).Select(c => new object[] { c });

    public static IEnumerable<object[]> IdiomaticCases() => RealCodeCorpus.Cases(RealCodeCorpus.Idiomatic).Select(c => new object[] { c });

    public static IEnumerable<object[]> KernelVmapCases() => RealCodeCorpus.Cases(RealCodeCorpus.KernelVmap).Select(c => new object[] { c });

    [Theory]
    [MemberData(nameof(KernelCases))]
    public async Task Kernel(string name)
    {
        CaseResult result = await RealCodeCorpus.RunAsync(RealCodeCorpus.Kernel, name);
        Assert.True(result.Passed, result.Describe());
    }

    [Theory]
    [MemberData(nameof(IdiomaticCases))]
    public async Task Idiomatic(string name)
    {
        CaseResult result = await RealCodeCorpus.RunAsync(RealCodeCorpus.Idiomatic, name);
        Assert.True(result.Passed, result.Describe());
    }

    [Theory]
    [MemberData(nameof(KernelVmapCases))]
    public async Task KernelVmap(string name)
    {
        CaseResult result = await RealCodeCorpus.RunAsync(RealCodeCorpus.KernelVmap, name);
        Assert.True(result.Passed, result.Describe());
    }

    /// <summary>Each ported kernel function names where it comes from: the file, the function and the version or commit.</summary>
    [Theory]
    [MemberData(nameof(KernelCases))]
    public void Kernel_CaseNamesItsSource(string name) => AssertNamesItsSource(RealCodeCorpus.Kernel, name);

    /// <summary>The same for the vmap-era ports.</summary>
    [Theory]
    [MemberData(nameof(KernelVmapCases))]
    public void KernelVmap_CaseNamesItsSource(string name) => AssertNamesItsSource(RealCodeCorpus.KernelVmap, name);

    private static void AssertNamesItsSource(string tier, string name)
    {
        string source = File.ReadAllText(Path.Combine(RealCodeCorpus.Folder(tier), name));
        Assert.Matches(new Regex(@"^// Kernel: \S+\.[ch], \w+\(\), .+$", RegexOptions.Multiline), source);
    }

    [Theory]
    [InlineData(RealCodeCorpus.Kernel, 25)]
    [InlineData(RealCodeCorpus.Idiomatic, 40)]
    [InlineData(RealCodeCorpus.KernelVmap, 15)]
    public async Task Tier_HasNoFalsePositiveAndNoMiss(string tier, int minimumCases)
    {
        var results = new List<CaseResult>();
        foreach (string name in RealCodeCorpus.Cases(tier))
        {
            results.Add(await RealCodeCorpus.RunAsync(tier, name));
        }

        int expected = results.Sum(r => r.Expected.Count);
        int falsePositives = results.Sum(r => r.FalsePositives.Count);
        int missed = results.Sum(r => r.Missed.Count);
        int silentCases = results.Count(r => r.Expected.Count == 0);
        _output.WriteLine($"{tier}: {results.Count} cases ({silentCases} correct, {results.Count - silentCases} with bugs), {expected} expected reports, {expected - missed} reported, {falsePositives} false positives, {missed} missed");
        foreach (CaseResult failed in results.Where(r => !r.Passed))
        {
            _output.WriteLine(failed.Describe());
        }

        Assert.True(results.Count >= minimumCases, $"{tier} has {results.Count} cases; it needs at least {minimumCases}");
        Assert.Equal(0, falsePositives);
        Assert.Equal(0, missed);
    }
}
