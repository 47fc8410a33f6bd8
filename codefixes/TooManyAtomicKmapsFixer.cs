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
/// buffer read, and the mapping is a local that is only read through and unmapped. A window of atomic mappings
/// carried across loop iterations (<c>older = old; old = cur;</c>) cannot move: there every KmapAtomic of the buffer
/// that can flow into those locals becomes Kmap and every KunmapAtomic of them Kunmap, where they stand, when the
/// locals only hold such mappings and are only read through, unmapped or copied into each other, no other atomic
/// mapping may be held at any of the maps, the method is not an exporter's atomic callback, and the analyzers
/// confirm that the diagnostic goes and none comes. Reported at a call that maps atomically (a local function, a
/// helper) while two are held, "Map 'second' with Kmap instead" does the same move for the later held mapping, when
/// the analyzers confirm it.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(TooManyAtomicKmapsFixer))]
public sealed class TooManyAtomicKmapsFixer : DmaBufFixer
{
    /// <summary>The equivalence key of "Map with Kmap instead".</summary>
    public const string UseKmapKey = "DMA0004.UseKmap";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(RuleIdentifiers.TooManyAtomicKmaps);

    internal override string FixAllTitle(string equivalenceKey) => "Map every page past the second atomic one with Kmap";

    internal override async Task<IReadOnlyList<FixPlan>> PlanAsync(FixInput input, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        var plans = new List<FixPlan>();
        InvocationExpressionSyntax? kmap = FixSyntax.InvocationAt(input.Primary);
        if (kmap is null)
        {
            return plans;
        }

        if (!FixSyntax.Is(input.Model, kmap, input.Symbols.KmapAtomic, cancellationToken))
        {
            // A call that maps atomically (a local function, a helper) while two are held: the last held mapping of
            // this body is mapped with Kmap instead, moved up before the others, if the analyzers confirm it.
            if (await HeldMappingAsync(input, diagnostic, cancellationToken).ConfigureAwait(false) is { } held)
            {
                plans.Add(held);
            }

            return plans;
        }

        if (MoveUp(input, kmap, input.Related, "Map with Kmap instead", cancellationToken) is { } moved)
        {
            plans.Add(moved);
        }
        else if (await WindowAsync(input, diagnostic, kmap, cancellationToken).ConfigureAwait(false) is { } window)
        {
            plans.Add(window);
        }

        return plans;
    }

    /// <summary>
    /// For a call reported while two atomic mappings are held: the later of them, as Kmap, moved up before the other,
    /// when that is a plain local of this body and the analyzers confirm that the diagnostic goes and none comes.
    /// </summary>
    private static async Task<FixPlan?> HeldMappingAsync(FixInput input, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        var heldMaps = input.Related.Select(FixSyntax.InvocationAt)
            .Where(c => c is not null && FixSyntax.Is(input.Model, c, input.Symbols.KmapAtomic, cancellationToken))
            .Select(c => c!)
            .OrderBy(c => c.SpanStart)
            .ToList();
        if (heldMaps.Count != input.Related.Length || heldMaps.Count < 2)
        {
            return null;
        }

        InvocationExpressionSyntax last = heldMaps[heldMaps.Count - 1];
        if (MappingLocal.From(last, input.Model, input.Symbols, cancellationToken) is not { } mapping ||
            MoveUp(input, last, heldMaps.Take(heldMaps.Count - 1), $"Map '{mapping.Local.Name}' with Kmap instead", cancellationToken) is not { } plan)
        {
            return null;
        }

        Document edited = await plan.Apply(cancellationToken).ConfigureAwait(false);
        return await FixCheck.PlanIfFixesAsync(input.Document, edited, diagnostic, plan.Title, UseKmapKey, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The mapping's declaration, as Kmap, moved up to before the first of the held atomic mappings.</summary>
    private static FixPlan? MoveUp(FixInput input, InvocationExpressionSyntax kmap, IEnumerable<SyntaxNode> heldSites, string title, CancellationToken cancellationToken)
    {
        SemanticModel model = input.Model;
        KnownSymbols symbols = input.Symbols;
        MappingLocal? mapping = MappingLocal.From(kmap, model, symbols, cancellationToken);
        if (mapping is null || !mapping.Atomic || mapping.Escapes ||
            !mapping.Unmaps.All(u => FixSyntax.Is(model, u, symbols.KunmapAtomic, cancellationToken)))
        {
            return null;
        }

        BlockSyntax block = mapping.Block;
        var held = new List<StatementSyntax>();
        foreach (SyntaxNode site in heldSites)
        {
            InvocationExpressionSyntax? other = FixSyntax.InvocationAt(site);
            if (other is null || other == kmap)
            {
                return null;
            }

            if (!FixSyntax.Is(model, other, symbols.KmapAtomic, cancellationToken))
            {
                // Already turned into Kmap by an earlier fix.
                continue;
            }

            if (FixSyntax.StatementIn(other, block) is not { } statement || statement.SpanStart >= mapping.Statement.SpanStart)
            {
                return null;
            }

            held.Add(statement);
        }

        if (held.Count == 0)
        {
            return null;
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
            return null;
        }

        Document document = input.Document;
        LocalDeclarationStatementSyntax statementToMove = mapping.Statement;
        return new FixPlan(title, UseKmapKey, async ct =>
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
        });
    }

    /// <summary>
    /// Every atomic mapping of the buffer that can flow into the locals the reported one flows through (a window
    /// carried across iterations: <c>older = old; old = cur;</c>), mapped with Kmap and unmapped with Kunmap where
    /// they stand, outside an exporter's atomic callback, when no other atomic mapping may be held at any of them and
    /// the analyzers confirm the result.
    /// </summary>
    private static async Task<FixPlan?> WindowAsync(FixInput input, Diagnostic diagnostic, InvocationExpressionSyntax kmap, CancellationToken cancellationToken)
    {
        SemanticModel model = input.Model;
        KnownSymbols symbols = input.Symbols;
        if (FixSyntax.Body(kmap) is not { } body || FixSyntax.ReceiverSymbol(model, FixSyntax.Receiver(kmap), cancellationToken) is not { } buffer ||
            FixSyntax.StoredLocal(kmap, model, cancellationToken) is not { } stored ||
            Window(body, stored.Local, buffer, model, symbols, cancellationToken) is not { } window ||
            !window.Kmaps.Contains(kmap) || AtomicHold.InAtomicCallback(model, kmap.SpanStart, symbols, cancellationToken) ||
            window.Kmaps.Any(k => AtomicHold.MayBeHeldAt(body, k.SpanStart, model, symbols, window.Kmaps, cancellationToken)))
        {
            return null;
        }

        DocumentEditor editor = await DocumentEditor.CreateAsync(input.Document, cancellationToken).ConfigureAwait(false);
        foreach ((InvocationExpressionSyntax call, string name) in window.Kmaps.Select(k => (k, "Kmap")).Concat(window.Unmaps.Select(u => (u, "Kunmap"))))
        {
            var access = (MemberAccessExpressionSyntax)call.Expression;
            editor.ReplaceNode(access.Name, SyntaxFactory.IdentifierName(name).WithTriviaFrom(access.Name));
        }

        return await FixCheck.PlanIfFixesAsync(input.Document, editor.GetChangedDocument(), diagnostic, "Map with Kmap instead", UseKmapKey, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The KmapAtomic calls on <paramref name="buffer"/> and the KunmapAtomic calls of the locals that
    /// <paramref name="start"/> is connected with by plain assignments (<c>x = y;</c>, <c>var x = y;</c>), when those
    /// locals only ever hold such mappings and are only read through, unmapped or copied into each other; null
    /// otherwise.
    /// </summary>
    private static (List<InvocationExpressionSyntax> Kmaps, List<InvocationExpressionSyntax> Unmaps)? Window(
        SyntaxNode body, ILocalSymbol start, ISymbol buffer, SemanticModel model, KnownSymbols symbols, CancellationToken cancellationToken)
    {
        var kmaps = new List<InvocationExpressionSyntax>();
        var unmaps = new List<InvocationExpressionSyntax>();
        var locals = new HashSet<ILocalSymbol>(SymbolEqualityComparer.Default) { start };
        var pending = new Queue<ILocalSymbol>(locals);

        bool OnBuffer(InvocationExpressionSyntax call) =>
            SymbolEqualityComparer.Default.Equals(FixSyntax.ReceiverSymbol(model, FixSyntax.Receiver(call), cancellationToken), buffer);

        // A value stored into one of the locals: a KmapAtomic of the buffer, or another page local.
        bool Source(ExpressionSyntax value)
        {
            switch (FixSyntax.Unparenthesized(value))
            {
                case InvocationExpressionSyntax call when call.ArgumentList.Arguments.Count == 1 && FixSyntax.Is(model, call, symbols.KmapAtomic, cancellationToken) && OnBuffer(call):
                    if (!kmaps.Contains(call))
                    {
                        kmaps.Add(call);
                    }

                    return true;
                case IdentifierNameSyntax id:
                    return Connect(id);
                default:
                    return false;
            }
        }

        bool Connect(SyntaxNode node)
        {
            ISymbol? symbol = node is VariableDeclaratorSyntax declared ? model.GetDeclaredSymbol(declared, cancellationToken) : model.GetSymbolInfo(node, cancellationToken).Symbol;
            if (symbol is not ILocalSymbol { IsRef: false } local ||
                !SymbolEqualityComparer.Default.Equals(local.Type, symbols.DmaBufPage) ||
                local.DeclaringSyntaxReferences.Length != 1 || !body.Span.Contains(local.DeclaringSyntaxReferences[0].Span))
            {
                return false;
            }

            if (locals.Add(local))
            {
                pending.Enqueue(local);
            }

            return true;
        }

        while (pending.Count > 0)
        {
            ILocalSymbol local = pending.Dequeue();
            if (local.DeclaringSyntaxReferences[0].GetSyntax(cancellationToken) is not VariableDeclaratorSyntax
                {
                    Parent: VariableDeclarationSyntax { Parent: LocalDeclarationStatementSyntax { UsingKeyword.RawKind: (int)SyntaxKind.None } }
                } declarator ||
                (declarator.Initializer is { } initializer && !Source(initializer.Value)))
            {
                return null;
            }

            foreach (IdentifierNameSyntax id in FixSyntax.References(body, local, model, cancellationToken))
            {
                if (id.Ancestors().TakeWhile(a => a != body).Any(a => a is AnonymousFunctionExpressionSyntax or LocalFunctionStatementSyntax))
                {
                    return null;
                }

                bool plain = id.Parent switch
                {
                    AssignmentExpressionSyntax { RawKind: (int)SyntaxKind.SimpleAssignmentExpression, Parent: ExpressionStatementSyntax } store when store.Left == id => Source(store.Right),
                    AssignmentExpressionSyntax { RawKind: (int)SyntaxKind.SimpleAssignmentExpression, Left: IdentifierNameSyntax target, Parent: ExpressionStatementSyntax } store when store.Right == id => Connect(target),
                    EqualsValueClauseSyntax { Parent: VariableDeclaratorSyntax copy } => Connect(copy),
                    MemberAccessExpressionSyntax access when access.Expression == id => access.Name.Identifier.ValueText != "Dispose",
                    InterpolationSyntax => true,
                    ArgumentSyntax { RefKindKeyword.RawKind: (int)SyntaxKind.None, Parent: ArgumentListSyntax { Parent: InvocationExpressionSyntax unmap } list } argument =>
                        list.Arguments.IndexOf(argument) == 1 && FixSyntax.Is(model, unmap, symbols.KunmapAtomic, cancellationToken) && OnBuffer(unmap) &&
                        AddOnce(unmaps, unmap),
                    _ => false,
                };
                if (!plain)
                {
                    return null;
                }
            }
        }

        return (kmaps, unmaps);
    }

    private static bool AddOnce(List<InvocationExpressionSyntax> calls, InvocationExpressionSyntax call)
    {
        if (!calls.Contains(call))
        {
            calls.Add(call);
        }

        return true;
    }
}
