// The fix of an access begun under a condition but used or ended on every path (DMA0007 at the kmap, DMA0002 at the
// end): begin the CPU access on every path, by taking the begin out of its `if`.
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

namespace DmaBuf.CodeFixes;

/// <summary>
/// DMA0007 ("mapped but no CPU access is begun on some path") and DMA0002 ("no CPU access is begun on some path"),
/// where an earlier statement of an enclosing block is <c>if (cond) buf.BeginCpuAccess(...);</c> (no else, the begin
/// its only statement) on the same buffer: "Begin the CPU access on every path" (<c>DMA0007.BeginOnEveryPath</c>,
/// <c>DMA0002.BeginOnEveryPath</c>) replaces the <c>if</c> with its begin. Every buffer needs its access begun before
/// the CPU touches it, coherent or not, so the condition (typically "is the buffer coherent?") is dropped. Not offered
/// where the condition does anything (a call, an assignment), where a comment inside the <c>if</c> would be lost, or
/// unless the analyzers confirm that it removes the diagnostic and adds none.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(ConditionalBeginFixer))]
public sealed class ConditionalBeginFixer : DmaBufFixer
{
    /// <summary>The equivalence key of "Begin the CPU access on every path" for DMA0007.</summary>
    public const string KmapKey = "DMA0007.BeginOnEveryPath";

    /// <summary>The equivalence key of "Begin the CPU access on every path" for DMA0002.</summary>
    public const string EndKey = "DMA0002.BeginOnEveryPath";

    private const string Title = "Begin the CPU access on every path";

    /// <inheritdoc />
    private protected override bool FixesWholeSolution => false;

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } =
        ImmutableArray.Create(RuleIdentifiers.KmapWithoutCpuAccess, RuleIdentifiers.MismatchedEndCpuAccess);

    internal override string FixAllTitle(string equivalenceKey) => "Begin every conditional CPU access on every path";

    internal override async Task<IReadOnlyList<FixPlan>> PlanAsync(FixInput input, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        var plans = new List<FixPlan>();
        SemanticModel model = input.Model;
        string message = diagnostic.GetMessage(CultureInfo.InvariantCulture);
        InvocationExpressionSyntax? call = FixSyntax.InvocationAt(input.Primary);
        if (call is null || !message.Contains("no CPU access is begun") || !message.EndsWith("on some path", System.StringComparison.Ordinal) ||
            FixSyntax.Receiver(call) is not { } receiver || FixSyntax.ReceiverSymbol(model, receiver, cancellationToken) is not { } buffer)
        {
            return plans;
        }

        if (ConditionalBegin(model, input.Symbols, call, buffer, cancellationToken) is not { } guarded)
        {
            return plans;
        }

        (IfStatementSyntax ifStatement, ExpressionStatementSyntax begin) = guarded;
        Document document = input.Document;
        DocumentEditor editor = await DocumentEditor.CreateAsync(document, cancellationToken).ConfigureAwait(false);
        StatementSyntax unguarded = begin
            .WithLeadingTrivia(ifStatement.GetLeadingTrivia())
            .WithTrailingTrivia(ifStatement.GetTrailingTrivia())
            .WithAdditionalAnnotations(Formatter.Annotation);
        editor.ReplaceNode(ifStatement, unguarded);
        string key = diagnostic.Id == RuleIdentifiers.KmapWithoutCpuAccess ? KmapKey : EndKey;
        if (await FixCheck.PlanIfFixesAsync(document, editor.GetChangedDocument(), diagnostic, Title, key, cancellationToken).ConfigureAwait(false) is { } plan)
        {
            plans.Add(plan);
        }

        return plans;
    }

    /// <summary>
    /// The nearest <c>if (cond) buffer.BeginCpuAccess(...);</c> before <paramref name="call"/> among the statements of
    /// the blocks around it (up to the body), with a condition that does nothing and no comment inside; null if none.
    /// </summary>
    private static (IfStatementSyntax If, ExpressionStatementSyntax Begin)? ConditionalBegin(SemanticModel model, KnownSymbols symbols, SyntaxNode call, ISymbol buffer, CancellationToken cancellationToken)
    {
        SyntaxNode? body = FixSyntax.Body(call);
        foreach (BlockSyntax block in call.Ancestors().TakeWhile(a => a != body?.Parent).OfType<BlockSyntax>())
        {
            foreach (StatementSyntax statement in block.Statements.Where(s => s.Span.End <= call.SpanStart).Reverse())
            {
                if (statement is not IfStatementSyntax { Else: null } ifStatement)
                {
                    continue;
                }

                StatementSyntax inner = FixSyntax.OnlyStatement(ifStatement.Statement);
                if (inner is ExpressionStatementSyntax { Expression: InvocationExpressionSyntax begin } beginStatement &&
                    CpuAccessCall.IsBegin(model, symbols, begin, cancellationToken) &&
                    FixSyntax.Receiver(begin) is { } receiver &&
                    SymbolEqualityComparer.Default.Equals(FixSyntax.ReceiverSymbol(model, receiver, cancellationToken), buffer))
                {
                    // The if's own leading and trailing trivia are kept; a comment anywhere else in it would be lost.
                    bool commentInside = FixSyntax.HasCommentBesides(ifStatement, ifStatement.GetLeadingTrivia().Concat(ifStatement.GetTrailingTrivia()));
                    return FixSyntax.HasEffects(ifStatement.Condition) || commentInside ? null : (ifStatement, beginStatement);
                }
            }
        }

        return null;
    }
}
