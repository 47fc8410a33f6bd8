// A real library's sources compiled in process from a local folder, for the measurements on real code (the blocking
// probe and the library cost): the options that say how (defines, references, exclusions), the references (this
// runtime's framework, ASP.NET Core's when installed, DmaBuf.Runtime), and the compilation. Nothing is fetched.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace DmaBuf.Benchmarks;

/// <summary>Compiles the <c>.cs</c> files under a folder, the way a library's project would, near enough to bind.</summary>
public static class LibrarySources
{
    /// <summary>
    /// Reads <c>[--define A;B] [--ref x.dll] [--exclude part] [--implicit-usings] [--limit N] [--add file.cs]</c>;
    /// what is not an option is returned in <paramref name="rest"/>.
    /// </summary>
    /// <param name="args">The arguments after the folder.</param>
    /// <param name="rest">The other arguments, in order.</param>
    /// <returns>The options.</returns>
    public static Options Parse(IEnumerable<string> args, out List<string> rest)
    {
        var defines = new List<string> { "NET", "NETCOREAPP", "NETCOREAPP3_0_OR_GREATER", "NETCOREAPP3_1_OR_GREATER", "NETSTANDARD2_0_OR_GREATER", "NETSTANDARD2_1_OR_GREATER", "RELEASE" };
        for (int v = 5; v <= 10; v++)
        {
            defines.Add($"NET{v}_0_OR_GREATER");
        }

        var references = new List<string>();
        var excludes = new List<string> { $"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", $"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}" };
        var added = new List<string>();
        int limit = int.MaxValue;
        bool implicitUsings = false;
        rest = new List<string>();
        string[] list = args.ToArray();
        for (int i = 0; i < list.Length; i++)
        {
            switch (list[i])
            {
                case "--define":
                    defines.AddRange(list[++i].Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                    break;
                case "--ref":
                    references.Add(list[++i]);
                    break;
                case "--exclude":
                    excludes.Add(list[++i]);
                    break;
                case "--add":
                    added.Add(list[++i]);
                    break;
                case "--implicit-usings":
                    implicitUsings = true;
                    break;
                case "--limit":
                    limit = int.Parse(list[++i], CultureInfo.InvariantCulture);
                    break;
                default:
                    rest.Add(list[i]);
                    break;
            }
        }

        return new Options(new CSharpParseOptions(LanguageVersion.Preview, preprocessorSymbols: defines), references, excludes, added, implicitUsings, limit);
    }

    /// <summary>The library's compilation (with DmaBuf.Runtime referenced), errors that do not affect binding suppressed.</summary>
    /// <param name="folder">The library's source folder.</param>
    /// <param name="options">How to compile it.</param>
    /// <param name="name">The assembly name.</param>
    /// <returns>The compilation.</returns>
    public static CSharpCompilation Compile(string folder, Options options, string name) =>
        Compile(
            Directory.EnumerateFiles(folder, "*.cs", SearchOption.AllDirectories)
                .Where(path => !options.Excludes.Any(part => path.Contains(part, StringComparison.Ordinal)))
                .OrderBy(path => path, StringComparer.Ordinal)
                .Select(path => (File.ReadAllText(path), path)),
            options,
            name);

    /// <summary>A library's compilation from sources in memory (with DmaBuf.Runtime referenced), as <see cref="Compile(string, Options, string)"/>.</summary>
    /// <param name="sources">The texts and their paths.</param>
    /// <param name="options">How to compile them.</param>
    /// <param name="name">The assembly name.</param>
    /// <returns>The compilation.</returns>
    public static CSharpCompilation Compile(IEnumerable<(string Text, string Path)> sources, Options options, string name)
    {
        List<SyntaxTree> trees = sources
            .Concat(options.Added.Select(path => (File.ReadAllText(path), path)))
            .Select(source => CSharpSyntaxTree.ParseText(source.Item1, options.ParseOptions, source.Item2))
            .ToList();
        if (options.ImplicitUsings)
        {
            // What the SDK's <ImplicitUsings> adds to a class library.
            trees.Add(CSharpSyntaxTree.ParseText(
                "global using global::System;\nglobal using global::System.Collections.Generic;\nglobal using global::System.IO;\nglobal using global::System.Linq;\nglobal using global::System.Net.Http;\nglobal using global::System.Threading;\nglobal using global::System.Threading.Tasks;\n",
                options.ParseOptions,
                "/library/ImplicitUsings.cs"));
        }

        var compilationOptions = new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable);
        CSharpCompilation library = CSharpCompilation.Create(name, trees, References(options.References), compilationOptions);

        // Errors that are not the compiler's (an [Experimental] API's own id, an analyzer's) do not affect binding.
        var notCompilers = library.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error && !d.Id.StartsWith("CS", StringComparison.Ordinal)).Select(d => d.Id).Distinct().ToList();
        return notCompilers.Count == 0
            ? library
            : library.WithOptions(compilationOptions.WithSpecificDiagnosticOptions(notCompilers.Select(id => KeyValuePair.Create(id, ReportDiagnostic.Suppress))));
    }

    private static IEnumerable<MetadataReference> References(List<string> extra)
    {
        string runtime = RuntimeEnvironment.GetRuntimeDirectory();
        var folders = new List<string> { runtime };

        // ASP.NET Core's shared framework of the same version carries Microsoft.Extensions.* and System.IO.Pipelines.
        string version = Path.GetFileName(runtime.TrimEnd(Path.DirectorySeparatorChar));
        string asp = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(runtime.TrimEnd(Path.DirectorySeparatorChar)))!, "Microsoft.AspNetCore.App", version);
        if (Directory.Exists(asp))
        {
            folders.Add(asp);
        }

        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (string dll in folders.SelectMany(f => Directory.EnumerateFiles(f, "*.dll")).Concat(extra).Append(typeof(DmaBuffer).Assembly.Location))
        {
            if (seen.Add(Path.GetFileName(dll)) && IsManaged(dll))
            {
                yield return MetadataReference.CreateFromFile(dll);
            }
        }
    }

    private static bool IsManaged(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            using var reader = new System.Reflection.PortableExecutable.PEReader(stream);
            return reader.HasMetadata;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }

    /// <summary>How to compile a library's folder.</summary>
    /// <param name="ParseOptions">The parse options, with the defines.</param>
    /// <param name="References">More references to add.</param>
    /// <param name="Excludes">Path parts whose files are left out.</param>
    /// <param name="Added">More source files to add (dma-buf methods, for the cost with a few in a library).</param>
    /// <param name="ImplicitUsings">Add the SDK's implicit usings.</param>
    /// <param name="Limit">At most this many of whatever is counted (probes).</param>
    public sealed record Options(CSharpParseOptions ParseOptions, List<string> References, List<string> Excludes, List<string> Added, bool ImplicitUsings, int Limit);
}
