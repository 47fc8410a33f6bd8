// All analyzers over the samples and the runtime: the fixed samples, the pipeline and the runtime's own code stay
// silent, and the firing samples report each of the twelve rules once, in the method named for it.
using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;

namespace DmaBuf.Reliability.Tests;

/// <summary>
/// All analyzers over the samples: the fixed code and the pipeline stay free of DmaBuf diagnostics, and the
/// firing samples report each rule once, inside the method named for it.
/// </summary>
public sealed class SampleTests
{
    private static string Sample(string path) => File.ReadAllText(Path.Combine(DmaBuf.Tests.Repository.Root(), "samples", path));

    [Fact]
    public async Task TheFixedSamplesAndThePipelineAreFreeOfDiagnostics()
    {
        foreach (string path in new[] { "DmaBuf.Rules/Fixed/Rules.cs", "DmaBuf.Pipeline/Program.cs" })
        {
            Compilation compilation = AnalyzerHost.Compile(Sample(path));
            Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));

            var (diagnostics, exceptions) = await AnalyzerHost.AnalyzeAsync(compilation);

            Assert.Empty(exceptions);
            string[] reported = diagnostics.Where(d => d.Id.StartsWith("DMA", StringComparison.Ordinal)).Select(d => $"{path}: {d}").ToArray();
            Assert.True(reported.Length == 0, string.Join(Environment.NewLine, reported));
        }
    }

    [Fact]
    public async Task TheRuntimeItselfIsFreeOfDiagnostics()
    {
        // The shipped exporters' atomic callbacks must not block (DMA0008), and the runtime's own CPU-access code
        // must follow the rules it enforces.
        Compilation compilation = AnalyzerHost.CompileRuntime(Path.Combine(DmaBuf.Tests.Repository.Root(), "runtime"));
        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));

        var (diagnostics, exceptions) = await AnalyzerHost.AnalyzeAsync(compilation);

        Assert.Empty(exceptions);
        string[] reported = diagnostics.Where(d => d.Id.StartsWith("DMA", StringComparison.Ordinal)).Select(d => d.ToString()).ToArray();
        Assert.True(reported.Length == 0, string.Join(Environment.NewLine, reported));
    }

    [Fact]
    public async Task TheFiringSamplesReportEachRuleOnceInItsOwnMethod()
    {
        string source = Sample("DmaBuf.Rules/Firing/Rules.cs");
        Compilation compilation = AnalyzerHost.Compile(source);
        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));

        var (diagnostics, exceptions) = await AnalyzerHost.AnalyzeAsync(compilation);

        Assert.Empty(exceptions);
        var reported = diagnostics.Where(d => d.Id.StartsWith("DMA", StringComparison.Ordinal)).ToList();
        string[] expected = Enumerable.Range(1, 12).Select(i => $"DMA{i:D4}").ToArray();
        Assert.Equal(expected, reported.Select(d => d.Id).OrderBy(id => id));
        SyntaxNode root = compilation.SyntaxTrees.Single().GetRoot();
        foreach (Diagnostic diagnostic in reported)
        {
            string member = root.FindNode(diagnostic.Location.SourceSpan).AncestorsAndSelf()
                .OfType<Microsoft.CodeAnalysis.CSharp.Syntax.MemberDeclarationSyntax>()
                .Select(m => m is Microsoft.CodeAnalysis.CSharp.Syntax.MethodDeclarationSyntax method ? method.Identifier.Text : null)
                .First(name => name is not null)!;
            string owner = diagnostic.Id == "DMA0008" ? "KmapAtomic" : "Dma" + diagnostic.Id[3..];
            Assert.Equal(owner, member);
        }
    }
}
