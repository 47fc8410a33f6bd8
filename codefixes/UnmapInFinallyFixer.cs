// DMA0009 for a Detach in a finally block whose try maps the table: "Unmap the table in a finally block"
// (DMA0009.UnmapInFinally) unmaps it on every way out of the code that uses it, inside the try that declares it.
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using DmaBuf.Analyzers;
using DmaBuf.Analyzers.Engine;
using DmaBuf.Analyzers.Rules;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Editing;
using Microsoft.CodeAnalysis.Formatting;

namespace DmaBuf.CodeFixes;

/// <summary>
/// DMA0009 (reported at the Detach, the MapAttachment being the additional location) for a Detach while the table
/// is mapped, where the table is declared by <c>var t = buf.MapAttachment(att, dir);</c> in a block the Detach is
/// outside of (a <c>finally</c> that detaches after the <c>try</c> that maps): "Unmap the table in a finally block"
/// (<c>DMA0009.UnmapInFinally</c>) wraps the statements after the declaration, to the end of its block, in
/// <c>try { ... } finally { buf.UnmapAttachment(att, t); }</c>, so the table is unmapped on every way out of its use,
/// before the Detach. Offered when the block does not unmap the table itself, nothing after the declaration assigns
/// the buffer, the attachment or the table, and the analyzers confirm that it removes the diagnostic and adds none.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UnmapInFinallyFixer))]
public sealed class UnmapInFinallyFixer : DmaBufFixer
{
    /// <inheritdoc />
    private protected override bool FixesWholeSolution => false;

    /// <summary>The equivalence key of "Unmap the table in a finally block".</summary>
    public const string UnmapInFinallyKey = "DMA0009.UnmapInFinally";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(RuleIdentifiers.UnmatchedAttachmentMapping);

    internal override string FixAllTitle(string equivalenceKey) => "Unmap every table in a finally block";

    internal override async Task<IReadOnlyList<FixPlan>> PlanAsync(FixInput input, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        var plans = new List<FixPlan>();
        SemanticModel model = input.Model;
        diagnostic.Properties.TryGetValue(FlowRule.KindProperty, out string? kind);
        InvocationExpressionSyntax? map = input.Related.Length == 1 ? FixSyntax.InvocationAt(input.Related[0]) : null;
        if (kind != AttachmentMappingRule.DetachWhileMapped || map is null ||
            !FixSyntax.Is(model, map, input.Symbols.MapAttachment, cancellationToken) || map.ArgumentList.Arguments.Count != 2 ||
            FixSyntax.StoredLocal(map, model, cancellationToken) is not { } stored || stored.Statement is not LocalDeclarationStatementSyntax ||
            stored.Block.Span.Contains(input.PrimarySpan) ||
            FixSyntax.Receiver(map) is not { } receiver || FixSyntax.ReceiverSymbol(model, receiver, cancellationToken) is not { } buffer ||
            FixSyntax.ReceiverSymbol(model, map.ArgumentList.Arguments[0].Expression, cancellationToken) is not { } attachment)
        {
            return plans;
        }

        BlockSyntax block = stored.Block;
        int index = block.Statements.IndexOf(stored.Statement);
        List<StatementSyntax> rest = block.Statements.Skip(index + 1).ToList();
        if (rest.Count == 0 ||
            rest.Any(s => s.DescendantNodesAndSelf().OfType<InvocationExpressionSyntax>().Any(c => FixSyntax.Is(model, c, input.Symbols.UnmapAttachment, cancellationToken))) ||
            new[] { buffer, attachment, stored.Local }.Any(s => FixSyntax.IsWrittenIn(rest, s, model, cancellationToken)))
        {
            return plans;
        }

        StatementSyntax unmap = SyntaxFactory.ParseStatement(
            $"{receiver.WithoutTrivia()}.UnmapAttachment({map.ArgumentList.Arguments[0].Expression.WithoutTrivia()}, {stored.Name.ValueText});");
        Document document = input.Document;
        DocumentEditor editor = await DocumentEditor.CreateAsync(document, cancellationToken).ConfigureAwait(false);
        editor.ReplaceNode(block, (current, _) =>
        {
            var b = (BlockSyntax)current;
            List<StatementSyntax> inner = b.Statements.Skip(index + 1).Select(s => FixSyntax.IndentComments(s)).ToList();
            StatementSyntax guarded = SyntaxFactory.TryStatement(
                    SyntaxFactory.Block(inner.Select((s, i) => i == 0 ? s.WithoutLeadingTrivia() : s)),
                    default,
                    SyntaxFactory.FinallyClause(SyntaxFactory.Block(unmap)))
                .WithLeadingTrivia(inner[0].GetLeadingTrivia())
                .WithAdditionalAnnotations(Formatter.Annotation);
            return b.WithStatements(SyntaxFactory.List(b.Statements.Take(index + 1).Append(guarded)));
        });
        if (await FixCheck.PlanIfFixesAsync(document, editor.GetChangedDocument(), diagnostic, $"Unmap '{stored.Name.ValueText}' in a finally block", UnmapInFinallyKey, cancellationToken).ConfigureAwait(false) is { } plan)
        {
            plans.Add(plan);
        }

        return plans;
    }
}
