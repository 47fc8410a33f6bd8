// DMA0011 for a use after the code's own Put: "Put 'buf' after its last use" (DMA0011.PutAfterUse) moves the Put (or
// the helper call that puts) down past the uses that follow it in the same block, so the reference is held while used.
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
/// DMA0011 (reported at the use, the Put being the additional location): "Put 'buf' after its last use"
/// (<c>DMA0011.PutAfterUse</c>) moves the statement that puts the reference (<c>buf.Put();</c>, or a call of a helper
/// that puts it) to just after the last statement of the same block that still uses the buffer. Only the moment of
/// the release moves: offered when the Put is a statement of its own, the use is in a later statement of that block,
/// no statement it moves past can leave the block (return, throw, break, continue, goto) or assign what the Put
/// reads, and the analyzers confirm that the move removes the diagnostic and adds none. A use on another path (the
/// next iteration of a loop, a helper called later) is left alone: holding the reference longer there is a design
/// decision.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UseAfterPutFixer))]
public sealed class UseAfterPutFixer : DmaBufFixer
{
    /// <inheritdoc />
    private protected override bool FixesWholeSolution => false;

    /// <summary>The equivalence key of "Put 'buf' after its last use".</summary>
    public const string PutAfterUseKey = "DMA0011.PutAfterUse";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(RuleIdentifiers.UseAfterPut);

    internal override string FixAllTitle(string equivalenceKey) => "Put every reference after its last use";

    internal override async Task<IReadOnlyList<FixPlan>> PlanAsync(FixInput input, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        var plans = new List<FixPlan>();
        SemanticModel model = input.Model;
        InvocationExpressionSyntax? put = input.Related.Length == 1 ? FixSyntax.InvocationAt(input.Related[0]) : null;
        if (put?.Parent is not ExpressionStatementSyntax putStatement || putStatement.Parent is not BlockSyntax block ||
            input.Primary.SpanStart < putStatement.Span.End ||
            FixSyntax.StatementIn(input.Primary, block) is not { } useStatement)
        {
            return plans;
        }

        // What the Put reads (the buffer, the helper's arguments) must name the same values after the statements it moves past.
        var read = put.DescendantNodesAndSelf().OfType<IdentifierNameSyntax>()
            .Select(id => model.GetSymbolInfo(id, cancellationToken).Symbol)
            .Where(s => s is ILocalSymbol or IParameterSymbol or IFieldSymbol or IPropertySymbol)
            .Distinct<ISymbol?>(SymbolEqualityComparer.Default)
            .Cast<ISymbol>()
            .ToList();
        ISymbol? buffer = FixSyntax.Receiver(put) is { } receiver
            ? FixSyntax.ReceiverSymbol(model, receiver, cancellationToken)
            : put.ArgumentList.Arguments.Select(a => FixSyntax.ReceiverSymbol(model, a.Expression, cancellationToken)).FirstOrDefault(s => s is not null);
        if (buffer is null)
        {
            return plans;
        }

        int from = block.Statements.IndexOf(putStatement);
        int use = block.Statements.IndexOf(useStatement);
        int last = -1;
        for (int i = from + 1; i < block.Statements.Count; i++)
        {
            StatementSyntax statement = block.Statements[i];
            if (LeavesBlock(statement) || FixSyntax.IsWrittenIn(new[] { statement }, buffer, model, cancellationToken) ||
                read.Any(s => FixSyntax.IsWrittenIn(new[] { statement }, s, model, cancellationToken)))
            {
                break;
            }

            if (FixSyntax.References(statement, buffer, model, cancellationToken).Any())
            {
                last = i;
            }
        }

        if (last < use)
        {
            return plans;
        }

        StatementSyntax lastUse = block.Statements[last];
        Document document = input.Document;
        DocumentEditor editor = await DocumentEditor.CreateAsync(document, cancellationToken).ConfigureAwait(false);
        FixSyntax.RemoveStatementKeepingComments(editor, putStatement);
        editor.InsertAfter(lastUse, putStatement.WithoutLeadingTrivia()
            .WithLeadingTrivia(SyntaxFactory.ElasticMarker)
            .WithTrailingTrivia(putStatement.GetTrailingTrivia().Where(t => !FixSyntax.IsComment(t)).Prepend(SyntaxFactory.ElasticMarker))
            .WithAdditionalAnnotations(Formatter.Annotation));
        if (await FixCheck.PlanIfFixesAsync(document, editor.GetChangedDocument(), diagnostic, $"Put '{buffer.Name}' after its last use", PutAfterUseKey, cancellationToken).ConfigureAwait(false) is { } plan)
        {
            plans.Add(plan);
        }

        return plans;
    }

    /// <summary>Whether control may leave the statement other than by falling through it (a local function or lambda aside).</summary>
    private static bool LeavesBlock(StatementSyntax statement) =>
        statement.DescendantNodesAndSelf(n => n is not (LocalFunctionStatementSyntax or AnonymousFunctionExpressionSyntax))
            .Any(n => n is ReturnStatementSyntax or ThrowStatementSyntax or ThrowExpressionSyntax or GotoStatementSyntax or YieldStatementSyntax ||
                (n is BreakStatementSyntax or ContinueStatementSyntax && !InnerLoopOrSwitch(n, statement)));

    /// <summary>Whether a break or continue only leaves a loop or switch inside <paramref name="statement"/>.</summary>
    private static bool InnerLoopOrSwitch(SyntaxNode jump, StatementSyntax statement) =>
        jump.Ancestors().TakeWhile(a => a != statement.Parent).Any(a => FixSyntax.IsLoop(a) || (a is SwitchStatementSyntax && jump is BreakStatementSyntax));
}
