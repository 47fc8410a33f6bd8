// DMA0001 on a path that jumps past the end: "End CPU access before the jumps that skip it" (DMA0001.EndBeforeJump)
// ends the access before the break or goto that leaves it begun (a case of a switch, an error ladder).
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

namespace DmaBuf.CodeFixes;

/// <summary>
/// DMA0001 (reported at the way out, the begin being the additional location) for an access not ended on some path:
/// "End CPU access before the jumps that skip it" (<c>DMA0001.EndBeforeJump</c>) inserts
/// <c>buf.EndCpuAccess(start, length, direction);</c> (<c>buf.EndCpuAccess(direction);</c> for a whole-buffer begin)
/// with the begin's arguments before each <c>break</c>,
/// <c>continue</c> or <c>goto</c> after the begin on whose path the access is still begun, as the analyzers tell jump
/// by jump; offered when they confirm that the whole removes the diagnostic and adds none, and where nothing between
/// the begin and the jump assigns what the end reads.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UnendedCpuAccessAtJumpFixer))]
public sealed class UnendedCpuAccessAtJumpFixer : DmaBufFixer
{
    /// <inheritdoc />
    private protected override bool FixesWholeSolution => false;

    /// <summary>The equivalence key of "End CPU access before the jumps that skip it".</summary>
    public const string EndBeforeJumpKey = "DMA0001.EndBeforeJump";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(RuleIdentifiers.UnendedCpuAccess);

    internal override string FixAllTitle(string equivalenceKey) => "End every CPU access before the jumps that skip its end";

    internal override async Task<IReadOnlyList<FixPlan>> PlanAsync(FixInput input, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        var plans = new List<FixPlan>();
        SemanticModel model = input.Model;
        InvocationExpressionSyntax? begin = input.Related.Length == 1 ? FixSyntax.InvocationAt(input.Related[0]) : null;
        if (begin is null || !CpuAccessCall.IsBegin(model, input.Symbols, begin, cancellationToken) ||
            begin.Parent is not ExpressionStatementSyntax beginStatement || begin.Expression is not MemberAccessExpressionSyntax ||
            !CpuAccessCall.HasPositionalArguments(begin) ||
            !diagnostic.GetMessage(CultureInfo.InvariantCulture).Contains("is not ended on the path"))
        {
            return plans;
        }

        StatementSyntax end = SyntaxFactory.ExpressionStatement(CpuAccessCall.Renamed(begin, "EndCpuAccess"));
        if (await JumpRelease.PlanAsync(input, diagnostic, beginStatement, end, JumpRelease.Reads(begin, model, cancellationToken), "End CPU access before the jumps that skip it", EndBeforeJumpKey, cancellationToken).ConfigureAwait(false) is { } plan)
        {
            plans.Add(plan);
        }

        return plans;
    }
}
