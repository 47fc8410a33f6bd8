// DMA0009 for a Detach reached by a jump past the unmap: "Unmap the table before the jumps that skip it"
// (DMA0009.UnmapBeforeJump) repeats the code's own unmap before the goto that lands on the Detach with the table mapped.
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using DmaBuf.Analyzers;
using DmaBuf.Analyzers.Engine;
using DmaBuf.Analyzers.Rules;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace DmaBuf.CodeFixes;

/// <summary>
/// DMA0009 (reported at the Detach, the MapAttachment being the additional location) for a Detach while the table is
/// mapped, in an error ladder whose rung skips the unmap (<c>goto fail_detach</c> where <c>goto fail_unmap</c> was
/// meant): "Unmap the table before the jumps that skip it" (<c>DMA0009.UnmapBeforeJump</c>) inserts a copy of the
/// code's own <c>buf.UnmapAttachment(att, table);</c> before each jump after the mapping on whose path the table is
/// still mapped, as the analyzers tell jump by jump; offered when they confirm that the whole removes the diagnostic
/// and adds none. A Detach in a finally block whose try declares the table (out of scope there) gets no fix.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UnmapBeforeJumpToDetachFixer))]
public sealed class UnmapBeforeJumpToDetachFixer : DmaBufFixer
{
    /// <inheritdoc />
    private protected override bool FixesWholeSolution => false;

    /// <summary>The equivalence key of "Unmap the table before the jumps that skip it".</summary>
    public const string UnmapBeforeJumpKey = "DMA0009.UnmapBeforeJump";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(RuleIdentifiers.UnmatchedAttachmentMapping);

    internal override string FixAllTitle(string equivalenceKey) => "Unmap every table before the jumps that skip its unmap";

    internal override async Task<IReadOnlyList<FixPlan>> PlanAsync(FixInput input, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        var plans = new List<FixPlan>();
        SemanticModel model = input.Model;
        diagnostic.Properties.TryGetValue(FlowRule.KindProperty, out string? kind);
        InvocationExpressionSyntax? map = input.Related.Length == 1 ? FixSyntax.InvocationAt(input.Related[0]) : null;
        if (kind != AttachmentMappingRule.DetachWhileMapped || map is null ||
            !FixSyntax.Is(model, map, input.Symbols.MapAttachment, cancellationToken) ||
            map.Parent is not AssignmentExpressionSyntax { Left: IdentifierNameSyntax target } assignment || assignment.Right != map ||
            model.GetSymbolInfo(target, cancellationToken).Symbol is not ILocalSymbol table || FixSyntax.Body(map) is not { } body)
        {
            return plans;
        }

        ExpressionStatementSyntax? unmap = body.DescendantNodes().OfType<ExpressionStatementSyntax>().FirstOrDefault(s =>
            s.Expression is InvocationExpressionSyntax call && FixSyntax.Is(model, call, input.Symbols.UnmapAttachment, cancellationToken) &&
            FixSyntax.SameReceiver(model, call, map, cancellationToken) && call.ArgumentList.Arguments.Count == 2 &&
            FixSyntax.References(call.ArgumentList.Arguments[1], table, model, cancellationToken).Any());
        if (unmap is null)
        {
            return plans;
        }

        // try { t = buf.MapAttachment(att, dir); } catch { ... goto fail; }: the whole try is the mapping.
        StatementSyntax acquire = map.Ancestors().OfType<StatementSyntax>().First();
        if (acquire.Parent is BlockSyntax { Statements.Count: 1, Parent: TryStatementSyntax tryStatement } && tryStatement.Finally is null)
        {
            acquire = tryStatement;
        }

        if (await JumpRelease.PlanAsync(input, diagnostic, acquire, unmap, JumpRelease.Reads(unmap, model, cancellationToken),
            "Unmap the table before the jumps that skip it", UnmapBeforeJumpKey, cancellationToken).ConfigureAwait(false) is { } plan)
        {
            plans.Add(plan);
        }

        return plans;
    }
}
