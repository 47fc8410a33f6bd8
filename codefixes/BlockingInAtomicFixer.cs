// The fixes of DMA0005: the atomic mapping unmapped before the call that may block, or mapped with Kmap instead.
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
/// DMA0005 (reported at the blocking call, the atomic kmap being the additional location):
/// "Unmap before the blocking call" (<c>DMA0005.UnmapBefore</c>) moves the KunmapAtomic to just before the statement
/// that blocks, where the mapping is not used from that statement on; "Map with Kmap instead" (<c>DMA0005.UseKmap</c>)
/// maps the page with Kmap (and unmaps it with Kunmap), which may be held across a blocking call, where no other
/// atomic mapping may be held at the mapping (Kmap may block itself). A mapping stored from a try of its own into a
/// local declared elsewhere gets the same fix for its kmap and every unmap of that local, when the analyzers confirm
/// that it removes the diagnostic and adds none.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(BlockingInAtomicFixer))]
public sealed class BlockingInAtomicFixer : DmaBufFixer
{
    /// <summary>The equivalence key of "Unmap before the blocking call".</summary>
    public const string UnmapBeforeKey = "DMA0005.UnmapBefore";

    /// <summary>The equivalence key of "Map with Kmap instead".</summary>
    public const string UseKmapKey = "DMA0005.UseKmap";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(RuleIdentifiers.BlockingInAtomic);

    internal override string FixAllTitle(string equivalenceKey) =>
        equivalenceKey == UseKmapKey ? "Map every page held across a blocking call with Kmap" : "Unmap every atomic page before the blocking call";

    internal override async Task<IReadOnlyList<FixPlan>> PlanAsync(FixInput input, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        var plans = new List<FixPlan>();
        SemanticModel model = input.Model;
        KnownSymbols symbols = input.Symbols;
        InvocationExpressionSyntax? kmap = input.Related.Length == 1 ? FixSyntax.InvocationAt(input.Related[0]) : null;
        if (kmap is null || !FixSyntax.Is(model, kmap, symbols.KmapAtomic, cancellationToken) || FixSyntax.Body(kmap) is not { } body ||
            !body.Span.Contains(input.PrimarySpan))
        {
            return plans;
        }

        Document document = input.Document;
        MappingLocal? mapping = MappingLocal.From(kmap, model, symbols, cancellationToken);
        PlanUnmapBefore(input, mapping, plans, cancellationToken);

        bool usingStatement = kmap.Parent is EqualsValueClauseSyntax { Parent: VariableDeclaratorSyntax { Parent: VariableDeclarationSyntax { Parent: UsingStatementSyntax } } };
        bool inCallback = AtomicHold.InAtomicCallback(model, kmap.SpanStart, symbols, cancellationToken);
        if ((usingStatement || (mapping is not null && !mapping.Escapes)) && !inCallback &&
            !AtomicHold.MayBeHeldAt(body, kmap.SpanStart, model, symbols, new[] { kmap }, cancellationToken))
        {
            List<InvocationExpressionSyntax> unmaps = mapping?.Unmaps ?? new List<InvocationExpressionSyntax>();
            if (unmaps.All(u => FixSyntax.Is(model, u, symbols.KunmapAtomic, cancellationToken)))
            {
                plans.Add(new FixPlan("Map with Kmap instead", UseKmapKey, async ct =>
                {
                    DocumentEditor editor = await DocumentEditor.CreateAsync(document, ct).ConfigureAwait(false);
                    Rename(editor, kmap, "Kmap");
                    foreach (InvocationExpressionSyntax unmap in unmaps)
                    {
                        Rename(editor, unmap, "Kunmap");
                    }

                    return editor.GetChangedDocument();
                }));
            }
        }
        else if (mapping is null && !inCallback && StoredUnmaps(kmap, body, model, symbols, cancellationToken) is { } stored &&
            !AtomicHold.MayBeHeldAt(body, kmap.SpanStart, model, symbols, new[] { kmap }, cancellationToken))
        {
            // try { v = buf.KmapAtomic(n); } catch { v = null; }: the mapping lives in a local declared elsewhere, and
            // the analyzers confirm that Kmap, held where the code holds it, blocks nowhere it may not.
            DocumentEditor editor = await DocumentEditor.CreateAsync(document, cancellationToken).ConfigureAwait(false);
            Rename(editor, kmap, "Kmap");
            foreach (InvocationExpressionSyntax unmap in stored)
            {
                Rename(editor, unmap, "Kunmap");
            }

            if (await FixCheck.PlanIfFixesAsync(document, editor.GetChangedDocument(), diagnostic, "Map with Kmap instead", UseKmapKey, cancellationToken).ConfigureAwait(false) is { } plan)
            {
                plans.Add(plan);
            }
        }

        return plans;
    }

    /// <summary>
    /// For <c>v = buf.KmapAtomic(n)</c> into a local declared elsewhere: every <c>buf.KunmapAtomic(..., v...)</c> of the
    /// body, when the local is only read for the page's bytes and those unmaps (not copied, returned or handed whole
    /// to anything else) and none of its unmaps is a Kunmap; null otherwise.
    /// </summary>
    private static List<InvocationExpressionSyntax>? StoredUnmaps(InvocationExpressionSyntax kmap, SyntaxNode body, SemanticModel model, KnownSymbols symbols, CancellationToken cancellationToken)
    {
        if (kmap.Parent is not AssignmentExpressionSyntax { Left: IdentifierNameSyntax target } assignment || assignment.Right != kmap ||
            model.GetSymbolInfo(target, cancellationToken).Symbol is not ILocalSymbol local)
        {
            return null;
        }

        var unmaps = new List<InvocationExpressionSyntax>();
        foreach (IdentifierNameSyntax id in FixSyntax.References(body, local, model, cancellationToken))
        {
            InvocationExpressionSyntax? unmap = id.Ancestors().OfType<ArgumentSyntax>().FirstOrDefault()?.Parent?.Parent as InvocationExpressionSyntax;
            if (unmap is not null && (FixSyntax.Is(model, unmap, symbols.KunmapAtomic, cancellationToken) || FixSyntax.Is(model, unmap, symbols.Kunmap, cancellationToken)))
            {
                if (!FixSyntax.Is(model, unmap, symbols.KunmapAtomic, cancellationToken) || !FixSyntax.SameReceiver(model, unmap, kmap, cancellationToken))
                {
                    return null;
                }

                unmaps.Add(unmap);
                continue;
            }

            if (id.Parent is AssignmentExpressionSyntax { Right: var right } && right == id || id.Parent is ArgumentSyntax ||
                id.Ancestors().Any(a => a is ReturnStatementSyntax or AnonymousFunctionExpressionSyntax or LocalFunctionStatementSyntax))
            {
                return null;
            }
        }

        return unmaps.Count > 0 ? unmaps : null;
    }

    private static void PlanUnmapBefore(FixInput input, MappingLocal? mapping, List<FixPlan> plans, CancellationToken cancellationToken)
    {
        SemanticModel model = input.Model;
        if (mapping is null || mapping.IsUsing || mapping.Escapes || mapping.Disposed || mapping.Unmaps.Count != 1 ||
            mapping.Unmaps[0].Parent is not ExpressionStatementSyntax unmapStatement || unmapStatement.Parent != mapping.Block ||
            FixSyntax.StatementIn(input.Primary, mapping.Block) is not { } blocking ||
            blocking.SpanStart <= mapping.Statement.SpanStart || blocking.SpanStart >= unmapStatement.SpanStart)
        {
            return;
        }

        // From the blocking statement to the unmap: no use of the mapping, no other atomic kmap or kunmap, and
        // nothing that changes what the unmap's arguments read.
        List<StatementSyntax> moved = mapping.Block.Statements.Where(s => s.SpanStart >= blocking.SpanStart && s.SpanStart < unmapStatement.SpanStart).ToList();
        if (mapping.References.Any(r => moved.Any(s => s.Span.Contains(r.Span))) ||
            moved.Any(s => s.DescendantNodesAndSelf().OfType<InvocationExpressionSyntax>().Any(call =>
                FixSyntax.Is(model, call, input.Symbols.KmapAtomic, cancellationToken) || FixSyntax.Is(model, call, input.Symbols.KunmapAtomic, cancellationToken))) ||
            FixSyntax.Receiver(mapping.Unmaps[0]) is not { } receiver ||
            !FixSyntax.IsReusable(receiver, model, moved, cancellationToken) ||
            !FixSyntax.IsReusable(mapping.Unmaps[0].ArgumentList.Arguments[0].Expression, model, moved, cancellationToken))
        {
            return;
        }

        Document document = input.Document;
        plans.Add(new FixPlan("Unmap before the blocking call", UnmapBeforeKey, async ct =>
        {
            DocumentEditor editor = await DocumentEditor.CreateAsync(document, ct).ConfigureAwait(false);
            // The unmap moves with its own comments; the blocking statement keeps its own.
            editor.RemoveNode(unmapStatement, SyntaxRemoveOptions.KeepNoTrivia);
            editor.InsertBefore(blocking, unmapStatement.WithAdditionalAnnotations(Formatter.Annotation));
            return editor.GetChangedDocument();
        }));
    }

    private static void Rename(DocumentEditor editor, InvocationExpressionSyntax call, string name)
    {
        if (call.Expression is MemberAccessExpressionSyntax access)
        {
            editor.ReplaceNode(access.Name, SyntaxFactory.IdentifierName(name).WithTriviaFrom(access.Name));
        }
    }
}
