// Runs one code fix over test code with diagnostic markup, one diagnostic at a time and with Fix All in every scope
// the provider supports, against .NET 8 and DmaBuf.Runtime.
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;

namespace DmaBuf.CodeFixes.Tests;

/// <summary>
/// Runs a code fix over C# test code that references DmaBuf.Runtime, with <c>{|DMA0001:...|}</c> markup in the
/// source (the diagnostics the analyzer must report) and in the fixed code (those that remain).
/// </summary>
internal static class CodeFixVerifier<TAnalyzer, TCodeFix>
    where TAnalyzer : DiagnosticAnalyzer, new()
    where TCodeFix : CodeFixProvider, new()
{
    public const string Usings =
        "using System;\nusing System.Threading;\nusing DmaBuf;\n\n";

    /// <summary>A class <c>C</c> holding <paramref name="members"/>, plus a <c>Checksum(Span&lt;byte&gt;)</c> helper.</summary>
    public static string Class(string members) =>
        Usings + "class C\n{\n" + members + "\n    static void Checksum(Span<byte> span) { }\n}\n";

    public static CSharpCodeFixTest<TAnalyzer, TCodeFix, DefaultVerifier> Create(string source, string fixedSource, string? equivalenceKey)
    {
        var test = new CSharpCodeFixTest<TAnalyzer, TCodeFix, DefaultVerifier>
        {
            TestCode = source,
            FixedCode = fixedSource,
            CodeActionEquivalenceKey = equivalenceKey,
            ReferenceAssemblies = ReferenceAssemblies.Net.Net80,
        };
        test.TestState.AdditionalReferences.Add(MetadataReference.CreateFromFile(typeof(DmaBuffer).Assembly.Location));
        test.FixedState.AdditionalReferences.Add(MetadataReference.CreateFromFile(typeof(DmaBuffer).Assembly.Location));
        test.BatchFixedState.AdditionalReferences.Add(MetadataReference.CreateFromFile(typeof(DmaBuffer).Assembly.Location));

        // A rule's further fixes offer Fix All in a document or project only (the first fix of a rule covers the
        // solution, for hosts such as dotnet format): the solution check runs where the provider offers it.
        if (new TCodeFix().GetFixAllProvider()?.GetSupportedFixAllScopes().Contains(FixAllScope.Solution) == false)
        {
            test.CodeFixTestBehaviors |= CodeFixTestBehaviors.SkipFixAllInSolutionCheck;
        }

        return test;
    }

    /// <summary>
    /// Applies the fix with <paramref name="equivalenceKey"/> one diagnostic at a time, and with Fix All in document,
    /// project and solution scope, and compares both with <paramref name="fixedSource"/>.
    /// <paramref name="iterations"/> is the exact number of single fixes it takes: one per diagnostic, fewer where one
    /// fix repairs several (a begin or mapping reported at several ways out). Fix All must always take exactly one pass:
    /// the sequential Fix All fixes every diagnostic of a document in that pass, so a second pass would mean a plan
    /// that declined something it should have fixed, or a fix that left new work.
    /// </summary>
    public static Task VerifyAsync(string source, string fixedSource, string equivalenceKey, int iterations = 1, int? actionIndex = null)
    {
        var test = Create(source, fixedSource, equivalenceKey);
        test.CodeActionIndex = actionIndex;
        test.NumberOfIncrementalIterations = iterations;
        test.NumberOfFixAllIterations = 1;

        return test.RunAsync(CancellationToken.None);
    }

    /// <summary>
    /// Checks that no fix with <paramref name="equivalenceKey"/> is offered: zero single fixes and zero Fix All passes
    /// apply, and the diagnostics in the markup remain.
    /// </summary>
    public static Task VerifyNoFixAsync(string source, string equivalenceKey)
    {
        var test = Create(source, source, equivalenceKey);
        test.FixedState.MarkupHandling = MarkupMode.Allow;
        test.NumberOfIncrementalIterations = 0;
        test.NumberOfFixAllIterations = 0;
        return test.RunAsync(CancellationToken.None);
    }

    /// <summary>
    /// Several documents in one project: the test framework also runs Fix All in project and solution scope, which
    /// must fix every document the same way as one at a time.
    /// </summary>
    public static Task VerifyDocumentsAsync(string[] sources, string[] fixedSources, string equivalenceKey, int iterations)
    {
        var test = Create(string.Empty, string.Empty, equivalenceKey);
        test.NumberOfIncrementalIterations = iterations;
        test.NumberOfFixAllIterations = 1;

        // Fix All in document scope fixes one document per pass.
        test.NumberOfFixAllInDocumentIterations = sources.Length;
        test.TestState.Sources.Clear();
        test.FixedState.Sources.Clear();
        for (int i = 0; i < sources.Length; i++)
        {
            test.TestState.Sources.Add(($"/0/Test{i}.cs", sources[i]));
            test.FixedState.Sources.Add(($"/0/Test{i}.cs", fixedSources[i]));
        }

        return test.RunAsync(CancellationToken.None);
    }
}
