// Runs every DmaBuf analyzer and code fix over any source, the runtime's own sources included, recording every
// exception they throw.
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace DmaBuf.Reliability.Tests;

/// <summary>Runs every DmaBuf analyzer and code fix over arbitrary source, recording every exception they throw.</summary>
internal static class AnalyzerHost
{
    public static readonly ImmutableArray<DiagnosticAnalyzer> Analyzers = typeof(DmaBuf.Analyzers.RuleIdentifiers).Assembly.GetTypes()
        .Where(t => !t.IsAbstract && typeof(DiagnosticAnalyzer).IsAssignableFrom(t))
        .Select(t => (DiagnosticAnalyzer)Activator.CreateInstance(t)!)
        .ToImmutableArray();

    public static readonly ImmutableArray<CodeFixProvider> Fixers = AppDomain.CurrentDomain.Load("DmaBuf.CodeFixes").GetTypes()
        .Where(t => !t.IsAbstract && typeof(CodeFixProvider).IsAssignableFrom(t))
        .Select(t => (CodeFixProvider)Activator.CreateInstance(t)!)
        .ToImmutableArray();

    private static readonly ImmutableArray<MetadataReference> References = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
        .Split(Path.PathSeparator)
        .Where(path => Path.GetFileName(path).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(path) is "mscorlib.dll" or "netstandard.dll")
        .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
        .Append(MetadataReference.CreateFromFile(typeof(DmaBuffer).Assembly.Location))
        .ToImmutableArray();

    public static CSharpCompilation Compile(params string[] sources)
    {
        SyntaxTree[] trees = sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, path: $"/src/File{i}.cs")).ToArray();
        bool topLevel = trees.Any(t => t.GetRoot().ChildNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.GlobalStatementSyntax>().Any());
        return CSharpCompilation.Create(
            "Fuzzed",
            trees,
            References,
            new CSharpCompilationOptions(topLevel ? OutputKind.ConsoleApplication : OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: true));
    }

    // The build generates RepositoryLinks from DmaBufRepositoryUrl (Directory.Build.targets); the runtime's sources
    // need only its shape to compile.
    private const string RepositoryLinksShape = """
        namespace DmaBuf;
        internal static class RepositoryLinks { internal const string RulePages = "https://example.invalid/docs/rules/"; }
        """;

    /// <summary>Compiles the runtime's own sources as DmaBuf.Runtime, so the analyzers check the runtime itself.</summary>
    public static CSharpCompilation CompileRuntime(string runtimeDirectory) =>
        CSharpCompilation.Create(
            "DmaBuf.Runtime",
            Directory.EnumerateFiles(runtimeDirectory, "*.cs", SearchOption.TopDirectoryOnly)
                .OrderBy(f => f, StringComparer.Ordinal)
                .Select(f => CSharpSyntaxTree.ParseText(File.ReadAllText(f), new CSharpParseOptions(LanguageVersion.Latest), path: f))
                .Append(CSharpSyntaxTree.ParseText(RepositoryLinksShape, new CSharpParseOptions(LanguageVersion.Latest), path: "RepositoryLinks.g.cs")),
            References.Take(References.Length - 1),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: true));

    /// <summary>
    /// Runs all analyzers (and <paramref name="alongside"/>, a probe, if given); returns their diagnostics and every
    /// exception an analyzer threw.
    /// </summary>
    public static async Task<(ImmutableArray<Diagnostic> Diagnostics, IReadOnlyList<string> Exceptions)> AnalyzeAsync(
        Compilation compilation, bool concurrent = true, CancellationToken cancellationToken = default, DiagnosticAnalyzer? alongside = null)
    {
        var exceptions = new ConcurrentQueue<string>();
        var options = new CompilationWithAnalyzersOptions(
            new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty),
            (exception, analyzer, diagnostic) => exceptions.Enqueue($"{analyzer.GetType().Name}: {exception}"),
            concurrentAnalysis: concurrent,
            logAnalyzerExecutionTime: false);
        var withAnalyzers = compilation.WithAnalyzers(alongside is null ? Analyzers : Analyzers.Add(alongside), options);
        ImmutableArray<Diagnostic> diagnostics = await withAnalyzers.GetAnalyzerDiagnosticsAsync(cancellationToken);
        foreach (Diagnostic diagnostic in diagnostics.Where(d => d.Id == "AD0001"))
        {
            exceptions.Enqueue(diagnostic.ToString());
        }

        return (diagnostics, exceptions.ToList());
    }

    /// <summary>Offers and applies every code fix for <paramref name="diagnostic"/>; returns the exceptions thrown.</summary>
    public static async Task<IReadOnlyList<string>> ApplyFixesAsync(string source, Diagnostic diagnostic)
    {
        var failures = new List<string>();
        using var workspace = new AdhocWorkspace();
        Project project = workspace.AddProject("Fuzzed", LanguageNames.CSharp)
            .WithMetadataReferences(References)
            .WithCompilationOptions(new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true));
        Document document = project.AddDocument("File0.cs", source);
        foreach (CodeFixProvider fixer in Fixers.Where(f => f.FixableDiagnosticIds.Contains(diagnostic.Id)))
        {
            try
            {
                var actions = new List<CodeAction>();
                var context = new CodeFixContext(document, diagnostic, (action, _) => actions.Add(action), CancellationToken.None);
                await fixer.RegisterCodeFixesAsync(context);
                foreach (CodeAction action in actions)
                {
                    foreach (CodeActionOperation operation in await action.GetOperationsAsync(CancellationToken.None))
                    {
                        if (operation is ApplyChangesOperation apply)
                        {
                            Document? changed = apply.ChangedSolution.GetDocument(document.Id);
                            if (changed is not null)
                            {
                                _ = await changed.GetTextAsync();
                            }
                        }
                    }
                }
            }
            catch (Exception e)
            {
                failures.Add($"{fixer.GetType().Name} on {diagnostic}: {e}");
            }
        }

        return failures;
    }
}
