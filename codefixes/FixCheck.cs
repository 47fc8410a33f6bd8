// Checks a candidate fix with the analyzers themselves: the fixed document must compile as well as before, lose the
// diagnostic being fixed and gain no other. The fixes that insert a release at a way out of code whose paths the
// syntax alone cannot judge (correlated conditions, helpers) are only offered when this check passes.
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using DmaBuf.Analyzers.Rules;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Formatting;

namespace DmaBuf.CodeFixes;

internal static class FixCheck
{
    private static readonly ImmutableArray<DiagnosticAnalyzer> Analyzers =
        ImmutableArray.Create<DiagnosticAnalyzer>(new DmaBufFlowAnalyzer(), new ExporterAtomicCallbackAnalyzer());

    /// <summary>Whether <paramref name="after"/> fixes <paramref name="diagnostic"/> of <paramref name="before"/> and breaks nothing.</summary>
    public static async Task<bool> FixesOnlyAsync(Document before, Document after, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        (int Errors, Dictionary<string, int> Counts)? old = await AnalyzeAsync(before, cancellationToken).ConfigureAwait(false);
        (int Errors, Dictionary<string, int> Counts)? now = await AnalyzeAsync(after, cancellationToken).ConfigureAwait(false);
        if (old is null || now is null || now.Value.Errors > old.Value.Errors)
        {
            return false;
        }

        int Count(Dictionary<string, int> counts, string id) => counts.TryGetValue(id, out int n) ? n : 0;
        return Count(now.Value.Counts, diagnostic.Id) < Count(old.Value.Counts, diagnostic.Id) &&
            now.Value.Counts.All(c => c.Value <= Count(old.Value.Counts, c.Key));
    }

    /// <summary>Whether <paramref name="after"/> compiles as well as <paramref name="before"/> and has no more diagnostics of any rule.</summary>
    public static async Task<bool> NoWorseAsync(Document before, Document after, CancellationToken cancellationToken)
    {
        (int Errors, Dictionary<string, int> Counts)? old = await AnalyzeAsync(before, cancellationToken).ConfigureAwait(false);
        (int Errors, Dictionary<string, int> Counts)? now = await AnalyzeAsync(after, cancellationToken).ConfigureAwait(false);
        return old is not null && now is not null && now.Value.Errors <= old.Value.Errors &&
            now.Value.Counts.All(c => c.Value <= (old.Value.Counts.TryGetValue(c.Key, out int n) ? n : 0));
    }

    /// <summary>
    /// The plan that applies <paramref name="edited"/> (formatted where annotated), when it fixes
    /// <paramref name="diagnostic"/> of <paramref name="before"/> and breaks nothing; null otherwise.
    /// </summary>
    public static async Task<FixPlan?> PlanIfFixesAsync(Document before, Document edited, Diagnostic diagnostic, string title, string key, CancellationToken cancellationToken)
    {
        Document after = await Formatter.FormatAsync(edited, Formatter.Annotation, cancellationToken: cancellationToken).ConfigureAwait(false);
        return after != before && await FixesOnlyAsync(before, after, diagnostic, cancellationToken).ConfigureAwait(false)
            ? new FixPlan(title, key, _ => Task.FromResult(after))
            : null;
    }

    private static async Task<(int Errors, Dictionary<string, int> Counts)?> AnalyzeAsync(Document document, CancellationToken cancellationToken)
    {
        SemanticModel? model = await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false);
        if (model is null)
        {
            return null;
        }

        int errors = model.GetDiagnostics(null, cancellationToken).Count(d => d.Severity == DiagnosticSeverity.Error);
        var analysis = model.Compilation.WithAnalyzers(Analyzers, new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty));
        ImmutableArray<Diagnostic> diagnostics = await analysis.GetAnalyzerSemanticDiagnosticsAsync(model, null, cancellationToken).ConfigureAwait(false);
        var counts = diagnostics
            .Where(d => d.Id.StartsWith("DMA", System.StringComparison.Ordinal))
            .GroupBy(d => d.Id)
            .ToDictionary(g => g.Key, g => g.Count());
        return (errors, counts);
    }
}
