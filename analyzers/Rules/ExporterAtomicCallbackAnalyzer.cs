// DMA0008: an exporter's KmapAtomic or KunmapAtomic override that may block; the one rule outside the flow engine.
using System;
using System.Collections.Immutable;
using DmaBuf.Analyzers.Blocking;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace DmaBuf.Analyzers.Rules;

/// <summary>
/// DMA0008: an exporter's <c>KmapAtomic</c> or <c>KunmapAtomic</c> override that may block. The seed: "Neither the
/// importer nor the exporter (in the callback) is allowed to block when using these." Each operation of the
/// override's body that may block (see <see cref="BlockingAnalysis"/>) is reported where it is, with the override's
/// name as an additional location and the chain of calls down to the blocking operation in the message.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ExporterAtomicCallbackAnalyzer : DiagnosticAnalyzer
{
    private static readonly SymbolDisplayFormat s_overrideFormat = new(
        typeQualificationStyle: SymbolDisplayTypeQualificationStyle.NameAndContainingTypes,
        memberOptions: SymbolDisplayMemberOptions.IncludeContainingType,
        miscellaneousOptions: SymbolDisplayMiscellaneousOptions.EscapeKeywordIdentifiers);

    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(RuleDescriptors.DMA0008);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        if (context is null)
        {
            throw new ArgumentNullException(nameof(context));
        }

        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(OnCompilationStart);
    }

    private static void OnCompilationStart(CompilationStartAnalysisContext context)
    {
        // An exporter's file names the runtime's namespace; a compilation none of whose files does has none.
        KnownSymbols? symbols = KnownSymbols.IsReferenced(context.Compilation) && RuntimeMentions.Create(context.Compilation, context.CancellationToken) is not null
            ? KnownSymbols.Create(context.Compilation)
            : null;
        if (symbols is null)
        {
            return;
        }

        // The blocking analysis (and its table of the base class library) is made for the first exporter only.
        Compilation compilation = context.Compilation;
        AnalyzerOptions options = context.Options;
        var blocking = new Lazy<BlockingAnalysis>(() => BlockingAnalysis.Create(compilation, symbols, options), System.Threading.LazyThreadSafetyMode.ExecutionAndPublication);

        // Only the members of exporters are looked at: no operation is built for any other type's bodies.
        context.RegisterSymbolStartAction(
            type =>
            {
                if (IsExporter((INamedTypeSymbol)type.Symbol, symbols))
                {
                    type.RegisterOperationBlockAction(block => AnalyzeBlock(block, symbols, blocking.Value));
                }
            },
            SymbolKind.NamedType);
    }

    private static bool IsExporter(INamedTypeSymbol type, KnownSymbols symbols)
    {
        for (INamedTypeSymbol? current = type.BaseType; current is not null; current = current.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(current, symbols.DmaBufExporter))
            {
                return true;
            }
        }

        return false;
    }

    private static void AnalyzeBlock(OperationBlockAnalysisContext context, KnownSymbols symbols, BlockingAnalysis blocking)
    {
        if (context.OwningSymbol is not IMethodSymbol { MethodKind: MethodKind.Ordinary, IsOverride: true } method ||
            !(KnownSymbols.Overrides(method, symbols.ExporterKmapAtomic) || KnownSymbols.Overrides(method, symbols.ExporterKunmapAtomic)))
        {
            return;
        }

        Location? name = null;
        foreach (Location location in method.Locations)
        {
            if (location.IsInSource)
            {
                name = location;
                break;
            }
        }

        ImmutableArray<Location> additional = name is null ? ImmutableArray<Location>.Empty : ImmutableArray.Create(name);
        string display = method.ToDisplayString(s_overrideFormat);
        foreach (IOperation root in context.OperationBlocks)
        {
            IOperation current = root;
            try
            {
                foreach (IOperation operation in BlockingAnalysis.Walk(root, context.CancellationToken))
                {
                    current = operation;
                    if (blocking.IsBlocking(operation, context.CancellationToken, out string? call, out string? chain))
                    {
                        string why = string.IsNullOrEmpty(chain) ? string.Empty : " " + chain;
                        context.ReportDiagnostic(Diagnostic.Create(RuleDescriptors.DMA0008, BlockingAnalysis.GetReportLocation(operation), additional, display, call, why));
                    }
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                throw new InvalidOperationException($"DMA0008 failed while analyzing '{display}' at {Where(current)}: {exception.Message}", exception);
            }
        }
    }

    private static string Where(IOperation operation)
    {
        FileLinePositionSpan span = operation.Syntax.GetLocation().GetLineSpan();
        return $"{span.Path}:{span.StartLinePosition.Line + 1}";
    }
}
