// DMA0002 for an end reached both with the access begun and without it (an error label that the begin's own failure
// jumps to as well): "End the CPU access only where it was begun" (DMA0002.EndWhereBegun) records the begin in a flag
// and guards the end with it.
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
/// DMA0002 where no CPU access is begun on some of the paths to an end (reported at the end): "End the CPU access only
/// where it was begun" (<c>DMA0002.EndWhereBegun</c>) declares <c>bool accessBegun = false;</c> before the statement
/// that holds the begin, sets it to true right after the begin (so not when the begin throws), and puts the end under
/// <c>if (accessBegun)</c>. Every path runs what it ran before, except the end on the paths with nothing begun, which
/// is what the rule asks (an end under <c>if (att != null)</c> gets <c>&amp;&amp; accessBegun</c> in that condition). Offered
/// for one begin and one end of the buffer in the method, both statements of blocks (or the end of such an if), the
/// end with the begin's arguments, neither in a loop or function below the block that holds both, and only when the
/// analyzers confirm that it removes the diagnostic and adds none.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UnbegunEndCpuAccessFixer))]
public sealed class UnbegunEndCpuAccessFixer : DmaBufFixer
{
    /// <inheritdoc />
    private protected override bool FixesWholeSolution => false;

    /// <summary>The equivalence key of "End the CPU access only where it was begun".</summary>
    public const string EndWhereBegunKey = "DMA0002.EndWhereBegun";

    private const string Title = "End the CPU access only where it was begun";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(RuleIdentifiers.MismatchedEndCpuAccess);

    internal override string FixAllTitle(string equivalenceKey) => "End every CPU access only where it was begun";

    internal override async Task<IReadOnlyList<FixPlan>> PlanAsync(FixInput input, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        var plans = new List<FixPlan>();
        SemanticModel model = input.Model;
        KnownSymbols symbols = input.Symbols;
        InvocationExpressionSyntax? end = FixSyntax.InvocationAt(input.Primary);
        if (!diagnostic.GetMessage(CultureInfo.InvariantCulture).EndsWith("no CPU access is begun on some path", System.StringComparison.Ordinal) ||
            end is null || !CpuAccessCall.IsEnd(model, symbols, end, cancellationToken) || EndStatement(end) is not { } endStatement ||
            (FixSyntax.ReceiverSymbol(model, FixSyntax.Receiver(end), cancellationToken) ?? FixSyntax.AttachmentOf(model, FixSyntax.Receiver(end), cancellationToken)) is null ||
            FixSyntax.Body(end) is not BlockSyntax body)
        {
            return plans;
        }

        // The one begin of the buffer, with the end's arguments; no other CPU access call on it.
        List<InvocationExpressionSyntax> calls = body.DescendantNodes().OfType<InvocationExpressionSyntax>()
            .Where(c => c != end && CpuAccessCall.IsAny(model, symbols, c, cancellationToken) && FixSyntax.SameReceiver(model, end, c, cancellationToken))
            .ToList();
        if (calls.Count != 1 || calls[0] is not { Parent: ExpressionStatementSyntax { Parent: BlockSyntax beginBlock } beginStatement } begin ||
            !CpuAccessCall.IsBegin(model, symbols, begin, cancellationToken) || !FixSyntax.SameArguments(begin, end) || begin.SpanStart > end.SpanStart)
        {
            return plans;
        }

        BlockSyntax? common = beginBlock.AncestorsAndSelf().OfType<BlockSyntax>().FirstOrDefault(b => b.Span.Contains(endStatement.Span));
        if (common is null || FixSyntax.StatementIn(beginStatement, common) is not { } holder ||
            FixSyntax.IsInLoopOrFunctionBelow(beginStatement, common) || FixSyntax.IsInLoopOrFunctionBelow(endStatement, common))
        {
            return plans;
        }

        string name = FixSyntax.UniqueName(model, beginStatement, "accessBegun");
        Document document = input.Document;
        DocumentEditor editor = await DocumentEditor.CreateAsync(document, cancellationToken).ConfigureAwait(false);
        LocalDeclarationStatementSyntax flag = SyntaxFactory.LocalDeclarationStatement(SyntaxFactory.VariableDeclaration(
                SyntaxFactory.PredefinedType(SyntaxFactory.Token(SyntaxKind.BoolKeyword)),
                SyntaxFactory.SingletonSeparatedList(SyntaxFactory.VariableDeclarator(name)
                    .WithInitializer(SyntaxFactory.EqualsValueClause(SyntaxFactory.LiteralExpression(SyntaxKind.FalseLiteralExpression))))))
            .WithAdditionalAnnotations(Formatter.Annotation);
        StatementSyntax set = SyntaxFactory.ExpressionStatement(SyntaxFactory.AssignmentExpression(
                SyntaxKind.SimpleAssignmentExpression, SyntaxFactory.IdentifierName(name), SyntaxFactory.LiteralExpression(SyntaxKind.TrueLiteralExpression)))
            .WithLeadingTrivia(SyntaxFactory.ElasticMarker).WithTrailingTrivia(SyntaxFactory.ElasticMarker)
            .WithAdditionalAnnotations(Formatter.Annotation);
        editor.InsertBefore(holder, flag.WithLeadingTrivia(SyntaxFactory.ElasticMarker).WithTrailingTrivia(SyntaxFactory.ElasticMarker));
        editor.InsertAfter(beginStatement, set);
        if (endStatement is IfStatementSyntax guard)
        {
            // if (att != null) att.Buffer.EndCpuAccess(...); becomes if (att != null && accessBegun) ...
            editor.ReplaceNode(guard.Condition, SyntaxFactory.BinaryExpression(
                SyntaxKind.LogicalAndExpression, guard.Condition.WithoutTrivia(), SyntaxFactory.IdentifierName(name)).WithTriviaFrom(guard.Condition));
        }
        else
        {
            editor.ReplaceNode(endStatement, SyntaxFactory.IfStatement(
                    SyntaxFactory.IdentifierName(name),
                    SyntaxFactory.Block(endStatement.WithoutLeadingTrivia()))
                .WithLeadingTrivia(endStatement.GetLeadingTrivia())
                .WithAdditionalAnnotations(Formatter.Annotation));
        }
        if (await FixCheck.PlanIfFixesAsync(document, editor.GetChangedDocument(), diagnostic, Title, EndWhereBegunKey, cancellationToken).ConfigureAwait(false) is { } plan)
        {
            plans.Add(plan);
        }

        return plans;
    }

    /// <summary>
    /// The statement that holds the end in a block: the end's own, or an <c>if</c> with no else whose condition does
    /// nothing and whose only statement is the end (<c>if (att != null) att.Buffer.EndCpuAccess(...);</c>), labeled or not.
    /// </summary>
    private static StatementSyntax? EndStatement(InvocationExpressionSyntax end) => end.Parent switch
    {
        ExpressionStatementSyntax { Parent: BlockSyntax } statement => statement,
        ExpressionStatementSyntax { Parent: IfStatementSyntax { Else: null, Parent: BlockSyntax or LabeledStatementSyntax { Parent: BlockSyntax } } guard }
            when !FixSyntax.HasEffects(guard.Condition) => guard,
        _ => null,
    };
}
