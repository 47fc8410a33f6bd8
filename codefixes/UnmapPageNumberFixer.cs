// DMA0003 for an unmap that names another page than the one mapped: "Unmap the page that was mapped"
// (DMA0003.MappedPageNumber) gives the unmap the kmap's own page number.
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using DmaBuf.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Editing;

namespace DmaBuf.CodeFixes;

/// <summary>
/// DMA0003 (reported at the unmap, the kmap being the additional location) for an unmap with another page number:
/// "Unmap the page that was mapped" (<c>DMA0003.MappedPageNumber</c>) replaces the unmap's page number with the
/// kmap's (a kunmap must name the page it unmaps: the seed's <c>dma_buf_kunmap(dmabuf, page_num, vaddr)</c>). Offered
/// when the kmap's page number may be evaluated again at the unmap (nothing in the method assigns what it reads), and
/// the analyzers confirm that it removes the diagnostic and adds none.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UnmapPageNumberFixer))]
public sealed class UnmapPageNumberFixer : DmaBufFixer
{
    /// <inheritdoc />
    private protected override bool FixesWholeSolution => false;

    /// <summary>The equivalence key of "Unmap the page that was mapped".</summary>
    public const string MappedPageNumberKey = "DMA0003.MappedPageNumber";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(RuleIdentifiers.UnmatchedKmap);

    internal override string FixAllTitle(string equivalenceKey) => "Unmap every page with the number it was mapped with";

    internal override async Task<IReadOnlyList<FixPlan>> PlanAsync(FixInput input, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        var plans = new List<FixPlan>();
        SemanticModel model = input.Model;
        KnownSymbols symbols = input.Symbols;
        InvocationExpressionSyntax? unmap = FixSyntax.InvocationAt(input.Primary);
        InvocationExpressionSyntax? kmap = input.Related.Length == 1 ? FixSyntax.InvocationAt(input.Related[0]) : null;
        if (unmap is null || kmap is null || !diagnostic.GetMessage(CultureInfo.InvariantCulture).Contains("is unmapped with page number") ||
            !(FixSyntax.Is(model, unmap, symbols.Kunmap, cancellationToken) || FixSyntax.Is(model, unmap, symbols.KunmapAtomic, cancellationToken)) ||
            !(FixSyntax.Is(model, kmap, symbols.Kmap, cancellationToken) || FixSyntax.Is(model, kmap, symbols.KmapAtomic, cancellationToken)) ||
            unmap.ArgumentList.Arguments.Count != 2 || kmap.ArgumentList.Arguments.Count != 1 ||
            FixSyntax.Body(kmap) is not { } body || FixSyntax.Body(unmap) != body)
        {
            return plans;
        }

        ExpressionSyntax page = kmap.ArgumentList.Arguments[0].Expression;
        if (!FixSyntax.IsReusable(page, model, new[] { body }, cancellationToken))
        {
            return plans;
        }

        Document document = input.Document;
        DocumentEditor editor = await DocumentEditor.CreateAsync(document, cancellationToken).ConfigureAwait(false);
        ExpressionSyntax wrong = unmap.ArgumentList.Arguments[0].Expression;
        editor.ReplaceNode(wrong, page.WithTriviaFrom(wrong));
        if (await FixCheck.PlanIfFixesAsync(document, editor.GetChangedDocument(), diagnostic, "Unmap the page that was mapped", MappedPageNumberKey, cancellationToken).ConfigureAwait(false) is { } plan)
        {
            plans.Add(plan);
        }

        return plans;
    }
}
