// The fix of DMA0002's mismatched end: give the end the range and form of the access begun, in the same direction.
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using DmaBuf.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Editing;

namespace DmaBuf.CodeFixes;

/// <summary>
/// DMA0002, for an end whose range differs from the access begun, in the same direction (reported at the end, the begin being
/// the additional location): "Match the begun range" (<c>DMA0002.MatchBegin</c>) gives the end the begin's arguments,
/// and so its form: a whole-buffer end of a ranged begin gets the range, a ranged end of a whole-buffer begin becomes
/// <c>EndCpuAccess(direction)</c>.
/// Not offered where the directions differ: what an end's direction does is the exporter's (a cache clean, an
/// invalidate), so giving the end the begin's could drop it (<c>DMA0002.Bidirectional</c> is the fix there).
/// Not offered where nothing was begun or the access was already ended (the additional location is then absent or
/// another end), where the begin is a CpuAccess scope (its disposal ends the access), or where the begin's arguments
/// could have other values at the end.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MismatchedEndCpuAccessFixer))]
public sealed class MismatchedEndCpuAccessFixer : DmaBufFixer
{
    /// <summary>The equivalence key of "Match the begun range".</summary>
    public const string MatchBeginKey = "DMA0002.MatchBegin";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(RuleIdentifiers.MismatchedEndCpuAccess);

    /// <summary>
    /// Each fix rewrites the arguments of its own end and nothing else, and an end is reported once, so the
    /// independently computed edits never overlap: the batch fixer merges them.
    /// </summary>
    /// <returns>The batch fixer.</returns>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    internal override string FixAllTitle(string equivalenceKey) => "Match every end to its begun range";

    internal override Task<IReadOnlyList<FixPlan>> PlanAsync(FixInput input, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        var plans = new List<FixPlan>();
        SemanticModel model = input.Model;
        InvocationExpressionSyntax? end = FixSyntax.InvocationAt(input.Primary);
        InvocationExpressionSyntax? begin = input.Related.Length == 1 ? FixSyntax.InvocationAt(input.Related[0]) : null;
        if (end is null || begin is null ||
            !CpuAccessCall.IsEnd(model, input.Symbols, end, cancellationToken) ||
            !CpuAccessCall.IsBegin(model, input.Symbols, begin, cancellationToken) ||
            !FixSyntax.SameReceiver(model, begin, end, cancellationToken) ||
            FixSyntax.SameArguments(begin, end) ||
            !CpuAccessCall.HasPositionalArguments(begin) || !CpuAccessCall.HasPositionalArguments(end) ||
            FixSyntax.Body(end) is not { } body || FixSyntax.Body(begin) != body)
        {
            return Task.FromResult<IReadOnlyList<FixPlan>>(plans);
        }

        // The begin's arguments are evaluated again at the end: nothing in the method may assign what they read.
        if (begin.ArgumentList.Arguments.Any(a => !FixSyntax.IsReusable(a.Expression, model, new[] { body }, cancellationToken)))
        {
            return Task.FromResult<IReadOnlyList<FixPlan>>(plans);
        }

        // Only the range (and form) is matched: what the end's direction does is the exporter's (a cache clean, an
        // invalidate), so an end in another direction is left to "Begin and end the access Bidirectional".
        if (!Microsoft.CodeAnalysis.CSharp.SyntaxFactory.AreEquivalent(CpuAccessCall.Direction(begin).Expression, CpuAccessCall.Direction(end).Expression))
        {
            return Task.FromResult<IReadOnlyList<FixPlan>>(plans);
        }

        Document document = input.Document;
        plans.Add(new FixPlan("Match the begun range", MatchBeginKey, async ct =>
        {
            DocumentEditor editor = await DocumentEditor.CreateAsync(document, ct).ConfigureAwait(false);
            SeparatedSyntaxList<ArgumentSyntax> arguments = end.ArgumentList.Arguments;
            if (arguments.Count != begin.ArgumentList.Arguments.Count)
            {
                // The other form (a whole-buffer end of a ranged begin, or the reverse): the end takes the begin's.
                arguments = begin.ArgumentList.WithoutTrivia().Arguments;
            }
            else
            {
                for (int i = 0; i < arguments.Count; i++)
                {
                    ExpressionSyntax from = begin.ArgumentList.Arguments[i].Expression;
                    if (!Microsoft.CodeAnalysis.CSharp.SyntaxFactory.AreEquivalent(from, arguments[i].Expression))
                    {
                        arguments = arguments.Replace(arguments[i], arguments[i].WithExpression(from.WithTriviaFrom(arguments[i].Expression)));
                    }
                }
            }

            editor.ReplaceNode(end.ArgumentList, end.ArgumentList.WithArguments(arguments));
            return editor.GetChangedDocument();
        }));
        return Task.FromResult<IReadOnlyList<FixPlan>>(plans);
    }
}
