// The real-code tiers: each case is one file under RealCode/<tier>/, compiled on its own (with the tier's shared
// files, whose names start with '_') against DmaBuf.Runtime, with every DmaBuf analyzer on. A case states what it
// expects with '// expect: DMA00xx' comments on the line where each diagnostic starts; a line with no such comment
// expects none. This file owns reading the cases and comparing what was reported with what was expected.
using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using DmaBuf.Tests;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace DmaBuf.Analyzers.Tests.RealCode;

/// <summary>One diagnostic, as a case states it or the analyzers report it: the rule and the 1-based line.</summary>
internal readonly record struct Finding(string Id, int Line)
{
    public override string ToString() => $"{Id} at line {Line}";
}

/// <summary>What running one case gave: the expected and reported findings, and the messages for the report.</summary>
internal sealed class CaseResult
{
    public CaseResult(string name, IReadOnlyCollection<Finding> expected, IReadOnlyList<Diagnostic> reported)
    {
        Name = name;
        Expected = expected;
        Reported = reported;
        var reportedFindings = reported.Select(d => new Finding(d.Id, d.Location.GetLineSpan().StartLinePosition.Line + 1)).ToList();
        FalsePositives = Except(reportedFindings, expected);
        Missed = Except(expected.ToList(), reportedFindings);
    }

    public string Name { get; }

    public IReadOnlyCollection<Finding> Expected { get; }

    public IReadOnlyList<Diagnostic> Reported { get; }

    /// <summary>Reported but not expected (each expectation matches one report).</summary>
    public IReadOnlyList<Finding> FalsePositives { get; }

    /// <summary>Expected but not reported.</summary>
    public IReadOnlyList<Finding> Missed { get; }

    public bool Passed => FalsePositives.Count == 0 && Missed.Count == 0;

    private static List<Finding> Except(List<Finding> from, IReadOnlyCollection<Finding> remove)
    {
        var left = remove.ToList();
        var result = new List<Finding>();
        foreach (Finding finding in from)
        {
            if (!left.Remove(finding))
            {
                result.Add(finding);
            }
        }

        return result;
    }

    public string Describe()
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine($"{Name}: expected {Expected.Count}, reported {Reported.Count}");
        foreach (Finding finding in FalsePositives)
        {
            text.AppendLine("  not expected: " + finding + ": " + Reported.First(d => d.Id == finding.Id && d.Location.GetLineSpan().StartLinePosition.Line + 1 == finding.Line).GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        }

        foreach (Finding finding in Missed)
        {
            text.AppendLine("  missed: " + finding);
        }

        return text.ToString();
    }
}

/// <summary>Reads and runs the cases of the real-code tiers.</summary>
internal static class RealCodeCorpus
{
    public const string Kernel = "Kernel";
    public const string Idiomatic = "Idiomatic";

    /// <summary>Kernel functions of the vmap era (v5.6 on): vmap/vunmap and the whole-buffer begin/end of CPU access.</summary>
    public const string KernelVmap = "KernelVmap";

    private static readonly Regex Expectation = new(@"//\s*expect:\s*(?<ids>DMA\d{4}(\s*,\s*DMA\d{4})*)", RegexOptions.Compiled);

    private static readonly ImmutableArray<DiagnosticAnalyzer> Analyzers = typeof(RuleIdentifiers).Assembly.GetTypes()
        .Where(t => !t.IsAbstract && typeof(DiagnosticAnalyzer).IsAssignableFrom(t))
        .OrderBy(t => t.FullName, StringComparer.Ordinal)
        .Select(t => (DiagnosticAnalyzer)Activator.CreateInstance(t)!)
        .ToImmutableArray();

    private static readonly ImmutableArray<MetadataReference> References = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
        .Split(Path.PathSeparator)
        .Where(path => Path.GetFileName(path).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(path) is "mscorlib.dll" or "netstandard.dll")
        .OrderBy(path => path, StringComparer.Ordinal)
        .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
        .Append(MetadataReference.CreateFromFile(typeof(DmaBuffer).Assembly.Location))
        .ToImmutableArray();

    public static string Folder(string tier) => Path.Combine(Repository.Root(), "tests", "DmaBuf.Analyzers.Tests", "RealCode", tier);

    /// <summary>The case files of a tier (not its shared files), by name.</summary>
    public static IEnumerable<string> Cases(string tier) =>
        Directory.EnumerateFiles(Folder(tier), "*.cs", SearchOption.AllDirectories)
            .Where(f => !Path.GetFileName(f).StartsWith("_", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(Folder(tier), f).Replace('\\', '/'))
            .OrderBy(f => f, StringComparer.Ordinal);

    /// <summary>The findings a case's '// expect:' comments state.</summary>
    public static List<Finding> ExpectedFindings(string source)
    {
        var findings = new List<Finding>();
        string[] lines = source.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            foreach (Match match in Expectation.Matches(lines[i]))
            {
                foreach (string id in match.Groups["ids"].Value.Split(','))
                {
                    findings.Add(new Finding(id.Trim(), i + 1));
                }
            }
        }

        return findings;
    }

    public static CSharpParseOptions ParseOptions { get; } = new(LanguageVersion.Latest);

    public static CSharpCompilationOptions CompilationOptions { get; } =
        new(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: true);

    /// <summary>The analyzers every case runs with: each DiagnosticAnalyzer of DmaBuf.Analyzers.</summary>
    public static ImmutableArray<DiagnosticAnalyzer> AllAnalyzers => Analyzers;

    /// <summary>The metadata every case compiles against: the framework's System assemblies and DmaBuf.Runtime.</summary>
    public static ImmutableArray<MetadataReference> AllReferences => References;

    /// <summary>The files a case compiles as: the case itself first, then the tier's shared files, as (path, text).</summary>
    public static List<(string Path, string Text)> Sources(string tier, string name)
    {
        string folder = Folder(tier);
        string path = Path.Combine(folder, name);
        var sources = new List<(string Path, string Text)> { (path, File.ReadAllText(path)) };
        foreach (string shared in Directory.EnumerateFiles(folder, "_*.cs").OrderBy(f => f, StringComparer.Ordinal))
        {
            sources.Add((shared, File.ReadAllText(shared)));
        }

        return sources;
    }

    /// <summary>
    /// Every analyzer diagnostic of <paramref name="compilation"/> (it must have no compile error), sorted by position;
    /// throws when an analyzer failed.
    /// </summary>
    public static async Task<ImmutableArray<Diagnostic>> AnalyzeAsync(Compilation compilation, string name)
    {
        List<Diagnostic> errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        if (errors.Count > 0)
        {
            throw new InvalidOperationException(name + " does not compile:\n" + string.Join("\n", errors));
        }

        var failures = new List<string>();
        var options = new CompilationWithAnalyzersOptions(
            new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty),
            (exception, analyzer, _) => failures.Add(analyzer.GetType().Name + ": " + exception),
            concurrentAnalysis: false,
            logAnalyzerExecutionTime: false);
        ImmutableArray<Diagnostic> diagnostics = await compilation.WithAnalyzers(Analyzers, options).GetAnalyzerDiagnosticsAsync();
        failures.AddRange(diagnostics.Where(d => d.Id == "AD0001").Select(d => d.ToString()));
        if (failures.Count > 0)
        {
            throw new InvalidOperationException(name + ": an analyzer failed:\n" + string.Join("\n", failures));
        }

        return diagnostics;
    }

    public static async Task<CaseResult> RunAsync(string tier, string name)
    {
        List<(string Path, string Text)> sources = Sources(tier, name);
        string path = sources[0].Path;
        var compilation = CSharpCompilation.Create(
            "RealCode_" + Path.GetFileNameWithoutExtension(name),
            sources.Select(s => CSharpSyntaxTree.ParseText(s.Text, ParseOptions, path: s.Path)),
            References,
            CompilationOptions);
        ImmutableArray<Diagnostic> diagnostics = await AnalyzeAsync(compilation, name);
        List<Diagnostic> reported = diagnostics
            .Where(d => d.Id.StartsWith("DMA", StringComparison.Ordinal) && d.Location.SourceTree?.FilePath == path)
            .OrderBy(d => d.Location.SourceSpan.Start)
            .ToList();
        return new CaseResult(tier + "/" + name, ExpectedFindings(sources[0].Text), reported);
    }
}
