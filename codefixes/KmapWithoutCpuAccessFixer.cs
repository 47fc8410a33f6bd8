// The fixes of DMA0007: begin CPU access for the mapped page, or move an earlier end after the mapping's use.
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
using Microsoft.CodeAnalysis.Formatting;
using Microsoft.CodeAnalysis.Simplification;

namespace DmaBuf.CodeFixes;

/// <summary>
/// DMA0007 (reported at the kmap), <c>DMA0007.BeginAccess</c>. Where the code ends an access on that buffer in the same
/// block before the kmap (a <c>BeginCpuAccess</c>/<c>EndCpuAccess</c> pair with the same constant arguments whose
/// pages hold page N), "End the CPU access after the mapping's use" moves that <c>EndCpuAccess</c> after the mapping's
/// use (its unmap, or the end of the block), keeping the code's own range and direction. Otherwise "Begin CPU access
/// for page N" surrounds the mapping's use, from the kmap statement to its unmap (or to the end of the block, or the
/// whole <c>using</c> statement that maps), with <c>using (buf.CpuAccess(N * DmaBuffer.PageSize, DmaBuffer.PageSize,
/// direction))</c>, where direction is that of the nearest access the code begins on the buffer before the kmap, and
/// <c>Bidirectional</c> (right for any use) when there is none.
/// Only for a constant page, when no path reaches the kmap with access begun (a diagnostic "on some path" is left
/// alone: a second access over a begun one is not what the code meant), and when no atomic mapping may be held at
/// the kmap (CpuAccess may block).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(KmapWithoutCpuAccessFixer))]
public sealed class KmapWithoutCpuAccessFixer : DmaBufFixer
{
    /// <summary>The equivalence key of "Begin CPU access for page N".</summary>
    public const string BeginAccessKey = "DMA0007.BeginAccess";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(RuleIdentifiers.KmapWithoutCpuAccess);

    internal override string FixAllTitle(string equivalenceKey) => "Begin CPU access for every page mapped without it";

    internal override Task<IReadOnlyList<FixPlan>> PlanAsync(FixInput input, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        var plans = new List<FixPlan>();
        SemanticModel model = input.Model;
        KnownSymbols symbols = input.Symbols;
        InvocationExpressionSyntax? kmap = FixSyntax.InvocationAt(input.Primary);
        if (kmap is null || kmap.ArgumentList.Arguments.Count != 1 ||
            !(FixSyntax.Is(model, kmap, symbols.Kmap, cancellationToken) || FixSyntax.Is(model, kmap, symbols.KmapAtomic, cancellationToken)) ||
            diagnostic.GetMessage(CultureInfo.InvariantCulture).Contains("on some path") ||
            KmapOutsideBegunRangeFixer.Constant(model, kmap.ArgumentList.Arguments[0].Expression, cancellationToken) is not long page || page < 0 ||
            FixSyntax.Receiver(kmap) is not { } receiver || FixSyntax.ReceiverSymbol(model, receiver, cancellationToken) is null ||
            FixSyntax.Body(kmap) is not { } body ||
            AtomicHold.MayBeHeldAt(body, kmap.SpanStart, model, symbols, new[] { kmap }, cancellationToken))
        {
            return Done(plans);
        }

        Document document = input.Document;
        string title = $"Begin CPU access for page {page.ToString(CultureInfo.InvariantCulture)}";
        ExpressionSyntax direction = EarlierDirection(body, kmap, model, symbols, cancellationToken) ??
            SyntaxFactory.ParseExpression("global::DmaBuf.DmaDataDirection.Bidirectional").WithAdditionalAnnotations(Simplifier.Annotation);
        ExpressionSyntax scopeCall = (ExpressionSyntax)SyntaxGenerator.GetGenerator(document).InvocationExpression(
            SyntaxFactory.MemberAccessExpression(SyntaxKind.SimpleMemberAccessExpression, receiver.WithoutTrivia(), SyntaxFactory.IdentifierName("CpuAccess")),
            KmapOutsideBegunRangeFixer.Bytes(page * 4096),
            KmapOutsideBegunRangeFixer.Bytes(4096),
            direction);

        // using (var page = buf.Kmap(n)) ...: the using statement is the mapping's whole use.
        if (kmap.Parent is EqualsValueClauseSyntax { Parent: VariableDeclaratorSyntax { Parent: VariableDeclarationSyntax { Parent: UsingStatementSyntax usingStatement } } })
        {
            plans.Add(new FixPlan(title, BeginAccessKey, async ct =>
            {
                DocumentEditor editor = await DocumentEditor.CreateAsync(document, ct).ConfigureAwait(false);
                editor.ReplaceNode(usingStatement, (current, _) => Scope(scopeCall, new[] { ((StatementSyntax)current).WithoutLeadingTrivia() }).WithLeadingTrivia(current.GetLeadingTrivia()));
                return editor.GetChangedDocument();
            }));
            return Done(plans);
        }

        MappingLocal? mapping = MappingLocal.From(kmap, model, symbols, cancellationToken);
        if (mapping is null || mapping.Escapes)
        {
            return Done(plans);
        }

        BlockSyntax block = mapping.Block;
        int first = block.Statements.IndexOf(mapping.Statement);
        int last = block.Statements.Count - 1;
        var releases = mapping.Unmaps.Cast<SyntaxNode>()
            .Concat(mapping.References.Where(r => r.Parent is MemberAccessExpressionSyntax { Name.Identifier.ValueText: "Dispose" }).Select(r => r.Parent!.Parent!))
            .ToList();
        if (!mapping.IsUsing && releases.Count == 1 && releases[0].Parent is ExpressionStatementSyntax releaseStatement && releaseStatement.Parent == block)
        {
            last = block.Statements.IndexOf(releaseStatement);
            List<StatementSyntax> inside = block.Statements.Skip(first).Take(last - first + 1).ToList();
            DataFlowAnalysis? flow = model.AnalyzeDataFlow(inside[0], inside[inside.Count - 1]);
            IEnumerable<StatementSyntax> after = block.Statements.Skip(last + 1);
            if (flow is null || !flow.Succeeded || flow.VariablesDeclared.Any(local => after.Any(s => FixSyntax.References(s, local, model, cancellationToken).Any())))
            {
                last = block.Statements.Count - 1;
            }
        }

        int count = last - first + 1;
        if (block.Statements[last] is not (ReturnStatementSyntax or ThrowStatementSyntax or BreakStatementSyntax or ContinueStatementSyntax or GotoStatementSyntax) &&
            EndedBefore(block, first, FixSyntax.ReceiverSymbol(model, receiver, cancellationToken)!, page, model, symbols, cancellationToken) is { } end)
        {
            StatementSyntax lastCovered = block.Statements[last];
            plans.Add(new FixPlan("End the CPU access after the mapping's use", BeginAccessKey, async ct =>
            {
                DocumentEditor editor = await DocumentEditor.CreateAsync(document, ct).ConfigureAwait(false);
                FixSyntax.RemoveStatementKeepingComments(editor, end);
                editor.InsertAfter(lastCovered, end.WithoutLeadingTrivia().WithAdditionalAnnotations(Formatter.Annotation));
                return editor.GetChangedDocument();
            }));
            return Done(plans);
        }

        plans.Add(new FixPlan(title, BeginAccessKey, async ct =>
        {
            DocumentEditor editor = await DocumentEditor.CreateAsync(document, ct).ConfigureAwait(false);
            editor.ReplaceNode(block, (current, _) =>
            {
                var b = (BlockSyntax)current;
                List<StatementSyntax> inner = b.Statements.Skip(first).Take(count).Select(s => FixSyntax.IndentComments(s)).ToList();
                StatementSyntax scope = Scope(scopeCall, inner.Select((s, i) => i == 0 ? s.WithoutLeadingTrivia() : s))
                    .WithLeadingTrivia(inner[0].GetLeadingTrivia());
                return b.WithStatements(SyntaxFactory.List(b.Statements.Take(first).Append(scope).Concat(b.Statements.Skip(first + count))));
            });
            return editor.GetChangedDocument();
        }));
        return Done(plans);
    }

    /// <summary>
    /// The direction of the nearest CPU access the code begins on the same buffer before the kmap, when it is a
    /// constant or an enum member (the access the code meant); null when there is none.
    /// </summary>
    internal static ExpressionSyntax? EarlierDirection(SyntaxNode body, InvocationExpressionSyntax kmap, SemanticModel model, KnownSymbols symbols, CancellationToken cancellationToken) =>
        body.DescendantNodes().OfType<InvocationExpressionSyntax>()
            .Where(c => c.SpanStart < kmap.SpanStart && c.ArgumentList.Arguments.Count == 3 &&
                (FixSyntax.Is(model, c, symbols.BeginCpuAccess, cancellationToken) || FixSyntax.Is(model, c, symbols.CpuAccess, cancellationToken)) &&
                FixSyntax.SameReceiver(model, c, kmap, cancellationToken))
            .Select(c => c.ArgumentList.Arguments[2].Expression)
            .LastOrDefault(d => model.GetConstantValue(d, cancellationToken).HasValue)?.WithoutTrivia();

    /// <summary>
    /// The <c>buf.EndCpuAccess(...)</c> statement of the same block, before the mapping, that ends an access begun by a
    /// <c>BeginCpuAccess</c> with the same constant arguments before it, whose page span holds the mapped page, when
    /// nothing between the end and the mapping touches CPU access on that buffer: moving that end after the mapping's
    /// use is what the code meant (an access ended too early), with its own range and direction.
    /// </summary>
    internal static ExpressionStatementSyntax? EndedBefore(BlockSyntax block, int first, ISymbol buffer, long page, SemanticModel model, KnownSymbols symbols, CancellationToken cancellationToken)
    {
        bool IsAccess(InvocationExpressionSyntax c) =>
            (FixSyntax.Is(model, c, symbols.BeginCpuAccess, cancellationToken) || FixSyntax.Is(model, c, symbols.EndCpuAccess, cancellationToken) ||
             FixSyntax.Is(model, c, symbols.CpuAccess, cancellationToken)) &&
            SymbolEqualityComparer.Default.Equals(FixSyntax.ReceiverSymbol(model, FixSyntax.Receiver(c), cancellationToken), buffer);

        for (int i = first - 1; i >= 0; i--)
        {
            StatementSyntax statement = block.Statements[i];
            List<InvocationExpressionSyntax> calls = statement.DescendantNodesAndSelf().OfType<InvocationExpressionSyntax>().Where(IsAccess).ToList();
            if (calls.Count == 0)
            {
                continue;
            }

            if (statement is not ExpressionStatementSyntax { Expression: InvocationExpressionSyntax end } endStatement ||
                !FixSyntax.Is(model, end, symbols.EndCpuAccess, cancellationToken) || end.ArgumentList.Arguments.Count != 3)
            {
                return null;
            }

            ExpressionStatementSyntax? begin = block.Statements.Take(i).OfType<ExpressionStatementSyntax>().LastOrDefault(s =>
                s.Expression is InvocationExpressionSyntax b && IsAccess(b));
            if (begin?.Expression is not InvocationExpressionSyntax beginCall || !FixSyntax.Is(model, beginCall, symbols.BeginCpuAccess, cancellationToken) ||
                !FixSyntax.SameArguments(beginCall, end) ||
                KmapOutsideBegunRangeFixer.Constant(model, end.ArgumentList.Arguments[0].Expression, cancellationToken) is not long start ||
                KmapOutsideBegunRangeFixer.Constant(model, end.ArgumentList.Arguments[1].Expression, cancellationToken) is not long length ||
                length <= 0 || page < start / 4096 || page > (start + length - 1) / 4096)
            {
                return null;
            }

            return endStatement;
        }

        return null;
    }

    internal static StatementSyntax Scope(ExpressionSyntax scopeCall, IEnumerable<StatementSyntax> inner) =>
        SyntaxFactory.UsingStatement(declaration: null, expression: scopeCall, statement: SyntaxFactory.Block(inner))
            .WithAdditionalAnnotations(Formatter.Annotation);
}
