// DMA0002 for an access ended twice: removes the end that repeats another (an explicit end inside a CpuAccess scope,
// an end on one branch that the end after it repeats), or moves an end out of the loop it repeats in.
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
/// DMA0002 where the access was already ended (reported at the second end, or at the CpuAccess scope whose disposal
/// ends it again, the earlier end being the additional location), ranged or whole-buffer alike, <c>DMA0002.RemoveRepeatedEnd</c>:
/// <list type="bullet">
/// <item>"End the CPU access after the loop": an end that is a statement of a loop's body, of an access begun
/// before the loop, moves after the loop (it ended the access on the first iteration, and the next ones used it
/// ended);</item>
/// <item>"End 'b' here instead": an end in the finally block of a try that follows <c>b.BeginCpuAccess(...)</c> with
/// the same arguments, on another buffer, whose own end comes later (the finally ends the wrong buffer);</item>
/// <item>"Remove the explicit end": an <c>EndCpuAccess</c> inside the <c>CpuAccess</c> scope whose disposal ends the
/// same access;</item>
/// <item>"Remove the earlier end": an end on one path (a branch, a case) that an end after it, on every path,
/// repeats;</item>
/// <item>"Remove this end": the reported end, when the earlier one already ends the access on every path.</item>
/// </list>
/// An end is removed with the <c>if</c> that only guards it when that condition has no effects. Each is offered only
/// when the analyzers confirm that it removes the diagnostic and adds none (no path is left with the access begun),
/// the first that does, in that order; an end with no access begun at all is left alone (what to begin, and whether
/// the end belongs there, the code does not say).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(RedundantEndCpuAccessFixer))]
public sealed class RedundantEndCpuAccessFixer : DmaBufFixer
{
    /// <inheritdoc />
    private protected override bool FixesWholeSolution => false;

    /// <summary>The equivalence key of the fixes that remove or move a repeated end.</summary>
    public const string RemoveRepeatedEndKey = "DMA0002.RemoveRepeatedEnd";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(RuleIdentifiers.MismatchedEndCpuAccess);

    internal override string FixAllTitle(string equivalenceKey) => "Remove every end that repeats another";

    internal override async Task<IReadOnlyList<FixPlan>> PlanAsync(FixInput input, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        var plans = new List<FixPlan>();
        string message = diagnostic.GetMessage(CultureInfo.InvariantCulture);
        if (!message.Contains("already ended") || input.Related.Length != 1)
        {
            return plans;
        }

        SemanticModel model = input.Model;
        KnownSymbols symbols = input.Symbols;
        // A scope's second end is reported at its using keyword.
        InvocationExpressionSyntax? reported = input.Primary is UsingStatementSyntax { Expression: InvocationExpressionSyntax scope }
            ? scope
            : FixSyntax.InvocationAt(input.Primary);
        InvocationExpressionSyntax? earlier = FixSyntax.InvocationAt(input.Related[0]);
        if (reported is null || earlier is null || !CpuAccessCall.IsEnd(model, symbols, earlier, cancellationToken))
        {
            return plans;
        }

        var candidates = new List<(string Title, System.Func<SyntaxEditor, bool> Edit)>();
        if (CpuAccessCall.IsEnd(model, symbols, reported, cancellationToken) && AfterLoop(reported) is { } afterLoop)
        {
            candidates.Add(("End the CPU access after the loop", afterLoop));
        }

        if (CpuAccessCall.IsEnd(model, symbols, reported, cancellationToken) && reported != earlier &&
            OtherBufferOfTheTry(earlier, model, symbols, cancellationToken) is { } other)
        {
            candidates.Add(($"End '{other}' here instead", editor =>
            {
                editor.ReplaceNode(FixSyntax.Receiver(earlier)!, other.WithTriviaFrom(FixSyntax.Receiver(earlier)!));
                return true;
            }));
        }

        if (CpuAccessCall.IsScope(model, symbols, reported, cancellationToken))
        {
            candidates.Add(("Remove the explicit end", editor => Remove(editor, earlier)));
        }
        else if (CpuAccessCall.IsEnd(model, symbols, reported, cancellationToken) && reported != earlier)
        {
            candidates.Add(("Remove the earlier end", editor => Remove(editor, earlier)));
            candidates.Add(("Remove this end", editor => Remove(editor, reported)));
        }

        Document document = input.Document;
        foreach ((string title, System.Func<SyntaxEditor, bool> edit) in candidates)
        {
            DocumentEditor editor = await DocumentEditor.CreateAsync(document, cancellationToken).ConfigureAwait(false);
            if (!edit(editor))
            {
                continue;
            }

            if (await FixCheck.PlanIfFixesAsync(document, editor.GetChangedDocument(), diagnostic, title, RemoveRepeatedEndKey, cancellationToken).ConfigureAwait(false) is { } plan)
            {
                plans.Add(plan);
                break;
            }
        }

        return plans;
    }

    /// <summary>
    /// For an end that is a statement of a loop's body, with the loop a statement of a block: the edit that moves it
    /// after the loop; null for any other shape.
    /// </summary>
    internal static System.Func<SyntaxEditor, bool>? AfterLoop(InvocationExpressionSyntax end)
    {
        if (end.Parent is not ExpressionStatementSyntax endStatement || endStatement.Parent is not BlockSyntax { Parent: StatementSyntax loop } ||
            !FixSyntax.IsLoop(loop) || loop.Parent is not BlockSyntax)
        {
            return null;
        }

        return editor =>
        {
            FixSyntax.RemoveStatementKeepingComments(editor, endStatement);
            editor.InsertAfter(loop, endStatement.WithLeadingTrivia(SyntaxFactory.ElasticMarker).WithTrailingTrivia(SyntaxFactory.ElasticMarker).WithAdditionalAnnotations(Formatter.Annotation));
            return true;
        };
    }

    /// <summary>
    /// For an end in the finally block of a try that directly follows <c>other.BeginCpuAccess(...)</c> with the same
    /// arguments on another buffer: that buffer (the finally was meant to end the access its try covers).
    /// </summary>
    private static ExpressionSyntax? OtherBufferOfTheTry(InvocationExpressionSyntax end, SemanticModel model, KnownSymbols symbols, CancellationToken cancellationToken)
    {
        if (end.Parent is not ExpressionStatementSyntax { Parent: BlockSyntax { Parent: FinallyClauseSyntax { Parent: TryStatementSyntax tryStatement } } } ||
            tryStatement.Parent is not BlockSyntax block || block.Statements.IndexOf(tryStatement) is var index && index < 1 ||
            block.Statements[index - 1] is not ExpressionStatementSyntax { Expression: InvocationExpressionSyntax begin } ||
            !CpuAccessCall.IsBegin(model, symbols, begin, cancellationToken) || !FixSyntax.SameArguments(begin, end) ||
            FixSyntax.Receiver(begin) is not { } other || FixSyntax.ReceiverSymbol(model, other, cancellationToken) is null ||
            FixSyntax.SameReceiver(model, begin, end, cancellationToken))
        {
            return null;
        }

        return other.WithoutTrivia();
    }

    /// <summary>
    /// Removes the statement of an end, with the <c>if</c> that only guards it when its condition has no effects;
    /// false when the end is not a statement that can go.
    /// </summary>
    private static bool Remove(SyntaxEditor editor, InvocationExpressionSyntax end)
    {
        if (end.Parent is not ExpressionStatementSyntax statement)
        {
            return false;
        }

        StatementSyntax target = statement;
        if (statement.Parent is BlockSyntax { Statements.Count: 1, Parent: IfStatementSyntax guarded } && guarded.Else is null)
        {
            target = guarded;
        }
        else if (statement.Parent is IfStatementSyntax { Else: null } embedded)
        {
            target = embedded;
        }

        if (target is IfStatementSyntax ifStatement && FixSyntax.HasEffects(ifStatement.Condition))
        {
            return false;
        }

        if (target.Parent is not BlockSyntax and not SwitchSectionSyntax)
        {
            return false;
        }

        // Comments before or after the statement move to the next one; one inside it, or beside it in a switch section, would be lost.
        bool outerComments = target.GetLeadingTrivia().Concat(target.GetTrailingTrivia()).Any(FixSyntax.IsComment);
        bool innerComments = target.DescendantTrivia().Count(FixSyntax.IsComment) > target.GetLeadingTrivia().Concat(target.GetTrailingTrivia()).Count(FixSyntax.IsComment);
        if (innerComments || (outerComments && target.Parent is not BlockSyntax))
        {
            return false;
        }

        FixSyntax.RemoveStatementKeepingComments(editor, target);
        return true;
    }
}
