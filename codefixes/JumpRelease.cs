// Inserts a release (the code's own unmap, end or Put) before the jumps (break, continue, goto, a throw to the method's
// own catch) that skip it on the way to the exit a diagnostic names: the error ladders of kernel code, the early breaks
// of loops, a validation that throws to a catch that logs and returns. Shared by the
// fixes of a resource left held; the analyzers choose the jumps, one at a time, and confirm the whole.
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Editing;
using Microsoft.CodeAnalysis.Formatting;

namespace DmaBuf.CodeFixes;

internal static class JumpRelease
{
    private static readonly SyntaxAnnotation Jump = new("DmaBuf.Jump");

    /// <summary>
    /// The plan that inserts <paramref name="release"/> before the jumps after <paramref name="acquire"/> in its body:
    /// each jump gets it when that makes no diagnostic of any rule more frequent (a jump on a path that holds nothing
    /// would gain one), and the plan is made when the jumps chosen remove <paramref name="diagnostic"/> and add none.
    /// Null when no jump takes it or the whole is not confirmed.
    /// </summary>
    public static async Task<FixPlan?> PlanAsync(FixInput input, Diagnostic diagnostic, SyntaxNode acquire, StatementSyntax release, IEnumerable<ISymbol> reads, string title, string key, CancellationToken cancellationToken)
    {
        if (FixSyntax.Body(acquire) is not BlockSyntax body)
        {
            return null;
        }

        // The release reads what must still hold the acquired values: nothing between may assign it.
        List<ISymbol> read = reads.ToList();
        List<StatementSyntax> jumps = body.DescendantNodes(n => n is not (AnonymousFunctionExpressionSyntax or LocalFunctionStatementSyntax))
            .OfType<StatementSyntax>()
            .Where(s => (s is BreakStatementSyntax or ContinueStatementSyntax or GotoStatementSyntax || IsCaughtHere(s, body)) && s.SpanStart > acquire.Span.End &&
                s.Parent is BlockSyntax or SwitchSectionSyntax or IfStatementSyntax or ElseClauseSyntax &&
                !ReleasesWhereItLands(s, release, body) &&
                !read.Any(r => FixSyntax.References(body, r, input.Model, cancellationToken).Any(id =>
                    FixSyntax.IsWrite(id) && id.SpanStart > acquire.Span.End && id.SpanStart < s.SpanStart)))
            .ToList();
        if (jumps.Count == 0 || jumps.Count > 24)
        {
            return null;
        }

        Document original = input.Document;
        SyntaxNode root = input.Root.ReplaceNodes(jumps, (_, j) => j.WithAdditionalAnnotations(Jump));
        Document current = original.WithSyntaxRoot(root);
        Document baseline = current;
        bool any = false;
        for (int i = 0; i < jumps.Count; i++)
        {
            SyntaxNode currentRoot = (await current.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false))!;
            StatementSyntax jump = currentRoot.GetAnnotatedNodes(Jump).OfType<StatementSyntax>().ElementAt(i);
            Document candidate = await InsertBeforeAsync(current, jump, release, cancellationToken).ConfigureAwait(false);
            candidate = await Formatter.FormatAsync(candidate, Formatter.Annotation, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (await FixCheck.NoWorseAsync(current, candidate, cancellationToken).ConfigureAwait(false))
            {
                current = candidate;
                any = true;
            }
        }

        if (!any || !await FixCheck.FixesOnlyAsync(baseline, current, diagnostic, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        SyntaxNode fixedRoot = (await current.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false))!;
        Document fixedDocument = original.WithSyntaxRoot(fixedRoot.ReplaceNodes(fixedRoot.GetAnnotatedNodes(Jump), (_, j) => j.WithoutAnnotations(Jump)));
        return new FixPlan(title, key, _ => Task.FromResult(fixedDocument));
    }

    /// <summary>
    /// Whether the code the jump lands on releases already: a statement like the release among the statements from a
    /// goto's label to the end of its block, or after the loop or switch a break leaves. The analyzers do not report
    /// every double release (an attachment unmapped twice), so a jump to the release's own rung is never a candidate.
    /// </summary>
    private static bool ReleasesWhereItLands(StatementSyntax jump, StatementSyntax release, BlockSyntax body)
    {
        IEnumerable<StatementSyntax> landing = Enumerable.Empty<StatementSyntax>();
        if (jump is GotoStatementSyntax { Expression: IdentifierNameSyntax label })
        {
            LabeledStatementSyntax? target = body.DescendantNodes().OfType<LabeledStatementSyntax>().FirstOrDefault(l => l.Identifier.ValueText == label.Identifier.ValueText);
            if (target?.Parent is not BlockSyntax block)
            {
                return true;
            }

            landing = block.Statements.Skip(block.Statements.IndexOf(target));
        }
        else if (jump is BreakStatementSyntax)
        {
            SyntaxNode? left = jump.Ancestors().FirstOrDefault(a => FixSyntax.IsLoop(a) || a is SwitchStatementSyntax);
            if (left is StatementSyntax { Parent: BlockSyntax block } statement)
            {
                landing = block.Statements.Skip(block.Statements.IndexOf(statement) + 1);
            }
        }

        else if (jump is ThrowStatementSyntax)
        {
            landing = jump.Ancestors().TakeWhile(a => a != body).OfType<TryStatementSyntax>()
                .Where(t => t.Block.Span.Contains(jump.Span))
                .SelectMany(t => t.Catches.Select(c => (StatementSyntax)c.Block));
        }

        return landing.Any(l => l.DescendantNodesAndSelf().OfType<StatementSyntax>().Any(s => SyntaxFactory.AreEquivalent(s.WithoutTrivia(), release.WithoutTrivia())));
    }

    /// <summary>A throw statement inside the try block of a try with a catch, in this body: a jump to that catch.</summary>
    private static bool IsCaughtHere(StatementSyntax statement, BlockSyntax body) =>
        statement is ThrowStatementSyntax &&
        statement.Ancestors().TakeWhile(a => a != body).OfType<TryStatementSyntax>().Any(t => t.Catches.Count > 0 && t.Block.Span.Contains(statement.Span));

    /// <summary>The locals and parameters a node of the document reads (what a release made from it reads).</summary>
    public static IEnumerable<ISymbol> Reads(SyntaxNode node, SemanticModel model, CancellationToken cancellationToken) =>
        node.DescendantNodesAndSelf().OfType<IdentifierNameSyntax>()
            .Select(id => model.GetSymbolInfo(id, cancellationToken).Symbol)
            .Where(s => s is ILocalSymbol or IParameterSymbol)
            .Distinct<ISymbol?>(SymbolEqualityComparer.Default)
            .Cast<ISymbol>();

    private static async Task<Document> InsertBeforeAsync(Document document, StatementSyntax jump, StatementSyntax release, CancellationToken cancellationToken)
    {
        DocumentEditor editor = await DocumentEditor.CreateAsync(document, cancellationToken).ConfigureAwait(false);
        StatementSyntax inserted = release.WithoutTrivia().WithLeadingTrivia(SyntaxFactory.ElasticMarker).WithTrailingTrivia(SyntaxFactory.ElasticMarker)
            .WithAdditionalAnnotations(Formatter.Annotation);
        if (jump.Parent is BlockSyntax or SwitchSectionSyntax)
        {
            editor.InsertBefore(jump, inserted.WithLeadingTrivia(jump.GetLeadingTrivia()));
            editor.ReplaceNode(jump, jump.WithLeadingTrivia(SyntaxFactory.ElasticMarker).WithAdditionalAnnotations(Formatter.Annotation));
        }
        else
        {
            // An embedded statement (if (...) goto err;): it becomes a block.
            editor.ReplaceNode(jump, SyntaxFactory.Block(inserted, jump.WithoutLeadingTrivia())
                .WithLeadingTrivia(jump.GetLeadingTrivia())
                .WithAdditionalAnnotations(Formatter.Annotation));
        }

        return editor.GetChangedDocument();
    }
}
