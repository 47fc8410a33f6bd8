// DMA0002 for an end over the begun range with another direction: "Begin and end the access Bidirectional"
// (DMA0002.Bidirectional) gives both calls the direction that does what each of them did.
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using DmaBuf.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Editing;
using Microsoft.CodeAnalysis.Simplification;

namespace DmaBuf.CodeFixes;

/// <summary>
/// DMA0002 (reported at the end, the begin being the additional location) where the end names the begun range in
/// the same words (or both are whole-buffer calls) but another constant direction: the code read what the device wrote (begun <c>FromDevice</c>) and
/// then wrote back for the device (ended <c>ToDevice</c>), or the reverse. "Begin and end the access Bidirectional"
/// (<c>DMA0002.Bidirectional</c>) makes both directions <c>Bidirectional</c>, which keeps what each call did: the
/// begin still makes the device's data visible, the end still writes the CPU's back. Giving the end the begin's
/// direction instead would drop one of the two. Offered when the analyzers confirm that it removes the diagnostic
/// and adds none.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MismatchedDirectionFixer))]
public sealed class MismatchedDirectionFixer : DmaBufFixer
{
    /// <inheritdoc />
    private protected override bool FixesWholeSolution => false;

    /// <summary>The equivalence key of "Begin and end the access Bidirectional".</summary>
    public const string BidirectionalKey = "DMA0002.Bidirectional";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(RuleIdentifiers.MismatchedEndCpuAccess);

    internal override string FixAllTitle(string equivalenceKey) => "Begin and end every access of two directions Bidirectional";

    internal override async Task<IReadOnlyList<FixPlan>> PlanAsync(FixInput input, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        var plans = new List<FixPlan>();
        SemanticModel model = input.Model;
        InvocationExpressionSyntax? end = FixSyntax.InvocationAt(input.Primary);
        InvocationExpressionSyntax? begin = input.Related.Length == 1 ? FixSyntax.InvocationAt(input.Related[0]) : null;
        if (end is null || begin is null || !diagnostic.GetMessage(CultureInfo.InvariantCulture).Contains("the access begun at line") ||
            !CpuAccessCall.IsEnd(model, input.Symbols, end, cancellationToken) ||
            !CpuAccessCall.IsBegin(model, input.Symbols, begin, cancellationToken) ||
            FixSyntax.Receiver(begin) is not { } beginReceiver || FixSyntax.Receiver(end) is not { } endReceiver ||
            !SyntaxFactory.AreEquivalent(beginReceiver, endReceiver) ||
            !CpuAccessCall.HasPositionalArguments(begin) || !CpuAccessCall.HasPositionalArguments(end) ||
            begin.ArgumentList.Arguments.Count != end.ArgumentList.Arguments.Count)
        {
            return plans;
        }

        // The same form and the same range in the same words (a whole-buffer access has none to compare).
        SeparatedSyntaxList<ArgumentSyntax> b = begin.ArgumentList.Arguments;
        SeparatedSyntaxList<ArgumentSyntax> e = end.ArgumentList.Arguments;
        for (int i = 0; i < b.Count - 1; i++)
        {
            if (!SyntaxFactory.AreEquivalent(b[i].Expression, e[i].Expression))
            {
                return plans;
            }
        }

        ArgumentSyntax beginDirection = CpuAccessCall.Direction(begin);
        ArgumentSyntax endDirection = CpuAccessCall.Direction(end);
        if (model.GetConstantValue(beginDirection.Expression, cancellationToken).Value is not int from ||
            model.GetConstantValue(endDirection.Expression, cancellationToken).Value is not int to ||
            from == to || from == 0 || to == 0 || from == 3 || to == 3)
        {
            return plans;
        }

        Document document = input.Document;
        DocumentEditor editor = await DocumentEditor.CreateAsync(document, cancellationToken).ConfigureAwait(false);
        foreach (ArgumentSyntax direction in new[] { beginDirection, endDirection })
        {
            ExpressionSyntax both = SyntaxFactory.ParseExpression("global::DmaBuf.DmaDataDirection.Bidirectional")
                .WithTriviaFrom(direction.Expression)
                .WithAdditionalAnnotations(Simplifier.Annotation);
            editor.ReplaceNode(direction.Expression, both);
        }

        Document fixedDocument = await Simplifier.ReduceAsync(editor.GetChangedDocument(), Simplifier.Annotation, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (await FixCheck.PlanIfFixesAsync(document, fixedDocument, diagnostic, "Begin and end the access Bidirectional", BidirectionalKey, cancellationToken).ConfigureAwait(false) is { } plan)
        {
            plans.Add(plan);
        }

        return plans;
    }
}
