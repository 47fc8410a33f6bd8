// The blocking probe: compiles a library from a local folder, calls each of its public methods under an atomic kmap,
// and writes per method whether DMA0005 reports the call and its message.
using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace DmaBuf.Benchmarks;

/// <summary>
/// The blocking probe: measures DMA0005's "may block" judgement on a real library. It compiles every <c>.cs</c> file
/// under a local folder (against this runtime's framework assemblies, plus ASP.NET Core's when installed, plus any
/// <c>--ref</c>), adds a generated file with one probe method per public method of the library, each calling that
/// method between <c>buf.KmapAtomic(0)</c> and <c>buf.KunmapAtomic(0, page)</c>, runs the DMA analyzers on that file
/// alone, and writes one line per probe: the method, whether DMA0005 reported the call, and its message.
/// </summary>
/// <remarks>
/// <c>--blocking-probe &lt;library-src&gt; [out.tsv] [--define A;B] [--ref x.dll] [--exclude part] [--limit N]</c>.
/// Compiler errors are expected (generated code, packages that are not there) and ignored, except in the probe
/// method itself: a probe whose call does not bind is written with <c>error</c> and left out of the counts.
/// Nothing is fetched: everything comes from the folder and the installed runtimes.
/// </remarks>
public static class BlockingProbe
{
    private const string ProbeClass = "__DmaBlockingProbes";

    private static readonly SymbolDisplayFormat s_typeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .WithMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.UseSpecialTypes | SymbolDisplayMiscellaneousOptions.EscapeKeywordIdentifiers | SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    /// <summary>Runs the probe; the arguments are those after <c>--blocking-probe</c>.</summary>
    /// <param name="args">The folder, then the output file and options.</param>
    /// <returns>The process exit code.</returns>
    public static int Run(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine("usage: --blocking-probe <library-src> [out.tsv] [--define A;B] [--ref x.dll] [--exclude part] [--limit N]");
            return 2;
        }

        LibrarySources.Options options = LibrarySources.Parse(args.Skip(1), out List<string> rest);
        string? output = rest.FirstOrDefault();
        int limit = options.Limit;
        CSharpCompilation library = LibrarySources.Compile(args[0], options, "Probed");
        List<SyntaxTree> trees = library.SyntaxTrees.ToList();
        CSharpParseOptions parse = options.ParseOptions;
        List<Diagnostic> errors = library.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        foreach (IGrouping<string, Diagnostic> group in errors.GroupBy(d => d.GetMessage(CultureInfo.InvariantCulture)).OrderByDescending(g => g.Count()).Take(8))
        {
            Console.Error.WriteLine($"  {group.Count(),5} × {group.First().Id} {group.Key}");
        }

        List<Probe> probes = Probes(library).Take(limit).ToList();
        SyntaxTree probeTree = CSharpSyntaxTree.ParseText(ProbeSource(probes), parse, "/probe/Probes.cs");
        CSharpCompilation probed = library.AddSyntaxTrees(probeTree);
        SemanticModel model = probed.GetSemanticModel(probeTree);
        var broken = new HashSet<int>(model.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => ProbeAt(probeTree, d.Location)));

        var withAnalyzers = new CompilationWithAnalyzers(
            probed,
            AnalyzerHarness.DmaAnalyzers,
            new CompilationWithAnalyzersOptions(
                new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty),
                onAnalyzerException: (e, analyzer, _) => Console.Error.WriteLine($"{analyzer} threw: {e}"),
                concurrentAnalysis: true,
                logAnalyzerExecutionTime: false,
                reportSuppressedDiagnostics: false));
        var started = System.Diagnostics.Stopwatch.StartNew();
        ImmutableArray<Diagnostic> diagnostics = withAnalyzers.GetAnalyzerSemanticDiagnosticsAsync(model, null, CancellationToken.None).GetAwaiter().GetResult();
        TimeSpan elapsed = started.Elapsed;
        var messages = new Dictionary<int, string>();
        foreach (Diagnostic diagnostic in diagnostics.Where(d => d.Id == "DMA0005"))
        {
            int index = ProbeAt(probeTree, diagnostic.Location);
            messages[index] = messages.TryGetValue(index, out string? earlier) ? earlier + " | " + diagnostic.GetMessage(CultureInfo.InvariantCulture) : diagnostic.GetMessage(CultureInfo.InvariantCulture);
        }

        var lines = new StringBuilder("probe\tmethod\treported\tmessage\n");
        int reported = 0;
        int valid = 0;
        foreach (Probe probe in probes)
        {
            string state = broken.Contains(probe.Index) ? "error" : messages.ContainsKey(probe.Index) ? "yes" : "no";
            valid += state == "error" ? 0 : 1;
            reported += state == "yes" ? 1 : 0;
            lines.Append(CultureInfo.InvariantCulture, $"P{probe.Index}\t{probe.Name}\t{state}\t{(messages.TryGetValue(probe.Index, out string? m) ? m.Replace('\t', ' ') : string.Empty)}\n");
        }

        if (output is null)
        {
            Console.Write(lines.ToString());
        }
        else
        {
            File.WriteAllText(output, lines.ToString());
        }

        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{trees.Count} files, {errors.Count} compiler errors in the library; {probes.Count} probes, {valid} bind, {reported} reported DMA0005; analysis {elapsed.TotalSeconds:N1} s"));
        return 0;
    }

    /// <summary>One probe per public, non-generic ordinary method of a public non-generic type of the library whose parameters can all be given <c>default</c>.</summary>
    private static IEnumerable<Probe> Probes(Compilation library)
    {
        int index = 0;
        var stack = new Stack<INamespaceOrTypeSymbol>();
        stack.Push(library.Assembly.GlobalNamespace);
        var types = new List<INamedTypeSymbol>();
        while (stack.Count > 0)
        {
            foreach (ISymbol member in stack.Pop().GetMembers())
            {
                if (member is INamespaceSymbol ns)
                {
                    stack.Push(ns);
                }
                else if (member is INamedTypeSymbol { DeclaredAccessibility: Accessibility.Public, IsGenericType: false } type && !type.Name.StartsWith('<'))
                {
                    types.Add(type);
                    stack.Push(type);
                }
            }
        }

        foreach (INamedTypeSymbol type in types.OrderBy(t => t.ToDisplayString(), StringComparer.Ordinal))
        {
            if (type.TypeKind is not (TypeKind.Class or TypeKind.Interface or TypeKind.Struct) || type.IsRefLikeType || HasObsolete(type))
            {
                continue;
            }

            foreach (IMethodSymbol method in type.GetMembers().OfType<IMethodSymbol>().OrderBy(m => m.ToDisplayString(), StringComparer.Ordinal))
            {
                if (method is { MethodKind: MethodKind.Ordinary, DeclaredAccessibility: Accessibility.Public, IsGenericMethod: false, ReturnsByRef: false, ReturnsByRefReadonly: false } &&
                    !method.IsImplicitlyDeclared && !HasObsolete(method) && method.Parameters.All(Expressible) && !(method.IsStatic && type.TypeKind == TypeKind.Interface))
                {
                    yield return new Probe(index++, method);
                }
            }
        }
    }

    private static bool Expressible(IParameterSymbol parameter) =>
        parameter.RefKind == RefKind.None && parameter.Type.TypeKind is not (TypeKind.Pointer or TypeKind.FunctionPointer or TypeKind.Error or TypeKind.Dynamic or TypeKind.TypeParameter) &&
        !ContainsTypeParameter(parameter.Type) && (parameter.Type.CanBeReferencedByName || parameter.Type is IArrayTypeSymbol);

    private static bool ContainsTypeParameter(ITypeSymbol type) => type switch
    {
        ITypeParameterSymbol => true,
        IArrayTypeSymbol array => ContainsTypeParameter(array.ElementType),
        INamedTypeSymbol named => named.TypeArguments.Any(ContainsTypeParameter),
        _ => false,
    };

    private static bool HasObsolete(ISymbol symbol) => symbol.GetAttributes().Any(a => a.AttributeClass?.Name == "ObsoleteAttribute");

    private static string ProbeSource(List<Probe> probes)
    {
        // Any<T>() stands for a value the caller knows nothing of (not null, not a constant, of any run-time type).
        var source = new StringBuilder("#nullable disable\ninternal static class " + ProbeClass + "\n{\n    internal static T Any<T>() => default;\n\n");
        foreach (Probe probe in probes)
        {
            IMethodSymbol method = probe.Method;
            string arguments = string.Join(", ", method.Parameters.Select(p => $"Any<{p.Type.ToDisplayString(s_typeFormat)}>()"));
            string target = method.IsStatic
                ? method.ContainingType.ToDisplayString(s_typeFormat)
                : $"Any<{method.ContainingType.ToDisplayString(s_typeFormat)}>()";
            source.Append(CultureInfo.InvariantCulture, $"    // {probe.Name}\n");
            source.Append(CultureInfo.InvariantCulture, $"    internal static void P{probe.Index}(global::DmaBuf.DmaBuffer buf)\n    {{\n");
            source.Append("        buf.BeginCpuAccess(0, global::DmaBuf.DmaBuffer.PageSize, global::DmaBuf.DmaDataDirection.FromDevice);\n");
            source.Append("        var page = buf.KmapAtomic(0);\n");
            source.Append(CultureInfo.InvariantCulture, $"        {target}.{EscapeName(method.Name)}({arguments});\n");
            source.Append("        buf.KunmapAtomic(0, page);\n");
            source.Append("        buf.EndCpuAccess(0, global::DmaBuf.DmaBuffer.PageSize, global::DmaBuf.DmaDataDirection.FromDevice);\n");
            source.Append("    }\n");
        }

        return source.Append("}\n").ToString();
    }

    private static string EscapeName(string name) => SyntaxFacts.GetKeywordKind(name) != Microsoft.CodeAnalysis.CSharp.SyntaxKind.None ? "@" + name : name;

    /// <summary>The index of the probe method a location is in (-1 outside every probe).</summary>
    private static int ProbeAt(SyntaxTree tree, Location location)
    {
        if (location.SourceTree != tree)
        {
            return -1;
        }

        SyntaxNode? node = tree.GetRoot().FindNode(location.SourceSpan);
        for (; node is not null; node = node.Parent)
        {
            if (node is Microsoft.CodeAnalysis.CSharp.Syntax.MethodDeclarationSyntax declaration && declaration.Identifier.ValueText.StartsWith('P'))
            {
                return int.Parse(declaration.Identifier.ValueText.AsSpan(1), CultureInfo.InvariantCulture);
            }
        }

        return -1;
    }

    private sealed record Probe(int Index, IMethodSymbol Method)
    {
        public string Name { get; } = Method.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat);
    }
}
