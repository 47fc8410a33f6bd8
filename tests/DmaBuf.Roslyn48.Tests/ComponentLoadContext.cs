// Loads the built analyzer and code-fix assemblies the way a Roslyn host loads an analyzer package: each from its
// folder in a context of its own, with Roslyn and System.Composition taken from the host (here Roslyn 4.8.0).
using System;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Diagnostics;

namespace DmaBuf.Roslyn48.Tests;

internal sealed class ComponentLoadContext : AssemblyLoadContext
{
    private readonly string _directory;

    private ComponentLoadContext(string directory)
        : base("DmaBuf components")
    {
        _directory = directory;
    }

    /// <summary>The folder the test project copies the built DmaBuf.Analyzers.dll and DmaBuf.CodeFixes.dll into.</summary>
    public static string Directory => Path.Combine(AppContext.BaseDirectory, "components");

    public static ComponentLoadContext Instance { get; } = new(Directory);

    public Assembly Analyzers => LoadFromAssemblyPath(Path.Combine(_directory, "DmaBuf.Analyzers.dll"));

    public Assembly CodeFixes => LoadFromAssemblyPath(Path.Combine(_directory, "DmaBuf.CodeFixes.dll"));

    /// <summary>Every analyzer, found by its [DiagnosticAnalyzer] attribute, as the compiler finds them.</summary>
    public ImmutableArray<DiagnosticAnalyzer> CreateAnalyzers() =>
        Analyzers.GetTypes()
            .Where(t => !t.IsAbstract && t.GetCustomAttribute<DiagnosticAnalyzerAttribute>() is not null)
            .Select(t => (DiagnosticAnalyzer)Activator.CreateInstance(t)!)
            .ToImmutableArray();

    /// <summary>Every code fix provider, found by its [ExportCodeFixProvider] attribute, as the IDE finds them.</summary>
    public ImmutableArray<CodeFixProvider> CreateFixers() =>
        CodeFixes.GetTypes()
            .Where(t => !t.IsAbstract && typeof(CodeFixProvider).IsAssignableFrom(t) && t.GetCustomAttribute<ExportCodeFixProviderAttribute>() is not null)
            .Select(t => (CodeFixProvider)Activator.CreateInstance(t)!)
            .ToImmutableArray();

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        // The host's Roslyn and System.Composition serve every reference they can (as Roslyn's own loader does);
        // only this package's assemblies come from its folder.
        string candidate = Path.Combine(_directory, assemblyName.Name + ".dll");
        return assemblyName.Name!.StartsWith("DmaBuf.", StringComparison.Ordinal) && File.Exists(candidate)
            ? LoadFromAssemblyPath(candidate)
            : null;
    }
}
