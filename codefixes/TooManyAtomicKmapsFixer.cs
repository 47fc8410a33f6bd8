// The fix of DMA0004: map the third page with Kmap instead, moved to where no atomic mapping is held.
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using DmaBuf.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Editing;
using Microsoft.CodeAnalysis.Formatting;

namespace DmaBuf.CodeFixes;

/// <summary>
/// DMA0004 (reported at the third KmapAtomic, the held atomic mappings being the additional locations): "Map with
/// Kmap instead" (<c>DMA0004.UseKmap</c>) maps that page with Kmap and unmaps it with Kunmap. Kmap may block, so
/// mapping it where it stands, with two atomic mappings held, would only trade DMA0004 for DMA0005: the declaration
/// moves up to just before the first of the held mappings, as the rule's sample does, where no atomic mapping may be
/// held. Offered only where that move changes nothing else: the held mappings are mapped earlier in the same block,
/// nothing in between begins or ends CPU access on that buffer or changes or declares what the mapping's page and
/// buffer read, and the mapping is a local that is only read through and unmapped.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(TooManyAtomicKmapsFixer))]
public sealed class TooManyAtomicKmapsFixer : DmaBufFixer
{
    /// <summary>The equivalence key of "Map with Kmap instead".</summary>
    public const string UseKmapKey = "DMA0004.UseKmap";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(RuleIdentifiers.TooManyAtomicKmaps);

    internal override string FixAllTitle(string equivalenceKey) => "Map every page past the second atomic one with Kmap";

    internal override Task<IReadOnlyList<FixPlan>> PlanAsync(FixInput input, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        var plans = new List<FixPlan>();
        SemanticModel model = input.Model;
        KnownSymbols symbols = input.Symbols;
        InvocationExpressionSyntax? kmap = FixSyntax.InvocationAt(input.Primary);
        MappingLocal? mapping = MappingLocal.From(kmap, model, symbols, cancellationToken);
        if (kmap is null || mapping is null || !mapping.Atomic || mapping.Escapes ||
            !mapping.Unmaps.All(u => FixSyntax.Is(model, u, symbols.KunmapAtomic, cancellationToken)))
        {
            return Done(plans);
        }

        BlockSyntax block = mapping.Block;
        var held = new List<StatementSyntax>();
        foreach (SyntaxNode site in input.Related)
        {
            InvocationExpressionSyntax? other = FixSyntax.InvocationAt(site);
            if (other is null || other == kmap)
            {
                return Done(plans);
            }

            if (!FixSyntax.Is(model, other, symbols.KmapAtomic, cancellationToken))
            {
                // Already turned into Kmap by an earlier fix.
                continue;
            }

            if (FixSyntax.StatementIn(other, block) is not { } statement || statement.SpanStart >= mapping.Statement.SpanStart)
            {
                return Done(plans);
            }

            held.Add(statement);
        }

        if (held.Count == 0)
        {
            return Done(plans);
        }

        StatementSyntax anchor = held.OrderBy(s => s.SpanStart).First();
        List<StatementSyntax> between = block.Statements.Where(s => s.SpanStart >= anchor.SpanStart && s.SpanStart < mapping.Statement.SpanStart).ToList();
        DataFlowAnalysis? flow = model.AnalyzeDataFlow(between[0], between[between.Count - 1]);
        if (flow is null || !flow.Succeeded ||
            flow.VariablesDeclared.Any(local => FixSyntax.References(mapping.Call, local, model, cancellationToken).Any()) ||
            !FixSyntax.IsReusable(mapping.Receiver, model, between, cancellationToken) ||
            !FixSyntax.IsReusable(mapping.PageArgument, model, between, cancellationToken) ||
            between.Any(s => s.DescendantNodesAndSelf().OfType<InvocationExpressionSyntax>().Any(call =>
                (FixSyntax.Is(model, call, symbols.BeginCpuAccess, cancellationToken) || FixSyntax.Is(model, call, symbols.EndCpuAccess, cancellationToken) ||
                 FixSyntax.Is(model, call, symbols.CpuAccess, cancellationToken)) &&
                FixSyntax.SameReceiver(model, call, kmap, cancellationToken) is var same && (same || FixSyntax.ReceiverSymbol(model, FixSyntax.Receiver(call), cancellationToken) is null))) ||
            FixSyntax.Body(kmap) is not { } body ||
            AtomicHold.MayBeHeldAt(body, anchor.SpanStart, model, symbols, new[] { kmap }, cancellationToken))
        {
            return Done(plans);
        }

        Document document = input.Document;
        LocalDeclarationStatementSyntax statementToMove = mapping.Statement;
        plans.Add(new FixPlan("Map with Kmap instead", UseKmapKey, async ct =>
        {
            DocumentEditor editor = await DocumentEditor.CreateAsync(document, ct).ConfigureAwait(false);
            var access = (MemberAccessExpressionSyntax)kmap.Expression;
            LocalDeclarationStatementSyntax moved = statementToMove.ReplaceNode(access.Name, SyntaxFactory.IdentifierName("Kmap").WithTriviaFrom(access.Name));
            editor.RemoveNode(statementToMove, SyntaxRemoveOptions.KeepNoTrivia);
            editor.InsertBefore(anchor, moved.WithAdditionalAnnotations(Formatter.Annotation));
            foreach (InvocationExpressionSyntax unmap in mapping.Unmaps)
            {
                if (unmap.Expression is MemberAccessExpressionSyntax unmapAccess)
                {
                    editor.ReplaceNode(unmapAccess.Name, SyntaxFactory.IdentifierName("Kunmap").WithTriviaFrom(unmapAccess.Name));
                }
            }

            return editor.GetChangedDocument();
        }));
        return Done(plans);
    }
}
