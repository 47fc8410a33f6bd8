// Runs one analyzer over test code with diagnostic markup, against .NET 8 and DmaBuf.Runtime, with an optional
// .editorconfig for the rules' options.
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;

namespace DmaBuf.Analyzers.Tests;

/// <summary>Runs an analyzer over C# test code that references DmaBuf.Runtime, with <c>{|DMA0001:...|}</c> markup.</summary>
internal static class AnalyzerVerifier<TAnalyzer>
    where TAnalyzer : DiagnosticAnalyzer, new()
{
    public static Task VerifyAsync(string source, params DiagnosticResult[] expected) =>
        VerifyAsync(source, editorConfig: null, expected);

    public static Task VerifyAsync(string source, string? editorConfig, params DiagnosticResult[] expected)
    {
        var test = CreateTest(source, editorConfig);
        test.ExpectedDiagnostics.AddRange(expected);
        return test.RunAsync(CancellationToken.None);
    }

    public static CSharpAnalyzerTest<TAnalyzer, DefaultVerifier> CreateTest(string source, string? editorConfig = null)
    {
        var test = new CSharpAnalyzerTest<TAnalyzer, DefaultVerifier>
        {
            TestCode = source,
            ReferenceAssemblies = ReferenceAssemblies.Net.Net80,
        };
        test.TestState.AdditionalReferences.Add(MetadataReference.CreateFromFile(typeof(DmaBuffer).Assembly.Location));
        if (editorConfig is not null)
        {
            test.TestState.AnalyzerConfigFiles.Add(("/.editorconfig", "root = true\n\n[*]\n" + editorConfig));
        }

        return test;
    }
}
