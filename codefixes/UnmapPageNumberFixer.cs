// DMA0003 for an unmap that names another page than the one mapped: "Unmap the page that was mapped"
// (DMA0003.MappedPageNumber) gives the unmap the kmap's own page number.
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using DmaBuf.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Editing;
using Microsoft.CodeAnalysis.Text;

namespace DmaBuf.CodeFixes;

/// <summary>
/// DMA0003 (reported at the unmap, the kmap being the additional location) for an unmap with another page number:
/// "Unmap the page that was mapped" (<c>DMA0003.MappedPageNumber</c>) replaces the unmap's page number with the
/// kmap's (a kunmap must name the page it unmaps: the seed's <c>dma_buf_kunmap(dmabuf, page_num, vaddr)</c>): the
/// kmap's own page expression when it has the same value at the unmap (nothing on the way from the kmap to the unmap
/// writes what it reads: a loop's <c>i</c> in one iteration), else <c>page.PageNumber</c> of the mapping the unmap
/// names by a local. Not offered when the wrong page expression does anything (a call, an increment), and only when
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

        ExpressionSyntax wrong = unmap.ArgumentList.Arguments[0].Expression;
        ExpressionSyntax mapping = unmap.ArgumentList.Arguments[1].Expression;
        if (FixSyntax.HasEffects(wrong))
        {
            return plans;
        }

        // The kmap's own page expression, where it has the same value at the unmap: nothing writes what it reads on the
        // way from the kmap to the unmap (both in the same loop body, the kmap first), or anywhere in the method.
        ExpressionSyntax page = kmap.ArgumentList.Arguments[0].Expression;
        if (!FixSyntax.IsReusable(page, model, PathRegion(body, kmap, unmap), cancellationToken))
        {
            // Else the page the mapping itself records, when the unmap names the mapping by a plain local.
            if (mapping is not IdentifierNameSyntax mappingName ||
                model.GetSymbolInfo(mappingName, cancellationToken).Symbol is not ILocalSymbol { IsRef: false })
            {
                return plans;
            }

            page = SyntaxFactory.MemberAccessExpression(SyntaxKind.SimpleMemberAccessExpression, mappingName.WithoutTrivia(), SyntaxFactory.IdentifierName("PageNumber"));
        }

        Document document = input.Document;
        DocumentEditor editor = await DocumentEditor.CreateAsync(document, cancellationToken).ConfigureAwait(false);
        editor.ReplaceNode(wrong, page.WithoutTrivia().WithTriviaFrom(wrong));
        if (await FixCheck.PlanIfFixesAsync(document, editor.GetChangedDocument(), diagnostic, "Unmap the page that was mapped", MappedPageNumberKey, cancellationToken).ConfigureAwait(false) is { } plan)
        {
            plans.Add(plan);
        }

        return plans;
    }

    /// <summary>
    /// The code a path from the kmap to the unmap may run before the unmap: the text between them when both are in the
    /// same loop body (or in no loop) and the kmap comes first, else the whole body.
    /// </summary>
    private static IEnumerable<SyntaxNode> PathRegion(SyntaxNode body, SyntaxNode kmap, SyntaxNode unmap)
    {
        SyntaxNode? kmapLoop = kmap.Ancestors().TakeWhile(a => a != body).FirstOrDefault(FixSyntax.IsLoop);
        SyntaxNode? unmapLoop = unmap.Ancestors().TakeWhile(a => a != body).FirstOrDefault(FixSyntax.IsLoop);
        if (kmapLoop != unmapLoop || kmap.Span.End > unmap.SpanStart ||
            (kmapLoop is not null && kmap.Ancestors().TakeWhile(a => a != kmapLoop).Any(a => a is LambdaExpressionSyntax or LocalFunctionStatementSyntax)))
        {
            return new[] { body };
        }

        TextSpan between = TextSpan.FromBounds(kmap.Span.End, unmap.SpanStart);
        return body.DescendantNodes(n => !between.Contains(n.Span)).Where(n => between.Contains(n.Span));
    }
}
