// DMA0003 on a path that jumps past the unmap: "Unmap the page before the jumps that skip it" (DMA0003.UnmapBeforeJump)
// repeats the code's own unmap before the break or goto that leaves the mapping held (an early break, an error ladder).
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using DmaBuf.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace DmaBuf.CodeFixes;

/// <summary>
/// DMA0003 (reported at the way out, the kmap being the additional location) for a page not unmapped on some path:
/// "Unmap the page before the jumps that skip it" (<c>DMA0003.UnmapBeforeJump</c>) inserts a copy of the code's own
/// unmap statement of that mapping (<c>buf.Kunmap(p, page);</c>) before each <c>break</c>, <c>continue</c> or
/// <c>goto</c> after the kmap on whose path the page is still mapped, as the analyzers tell jump by jump; offered when
/// they confirm that the whole removes the diagnostic and adds none. Not offered where the code has no unmap of the
/// mapping to copy, or where what the unmap reads is assigned between the kmap and the jump.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UnmatchedKmapAtJumpFixer))]
public sealed class UnmatchedKmapAtJumpFixer : DmaBufFixer
{
    /// <inheritdoc />
    private protected override bool FixesWholeSolution => false;

    /// <summary>The equivalence key of "Unmap the page before the jumps that skip it".</summary>
    public const string UnmapBeforeJumpKey = "DMA0003.UnmapBeforeJump";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(RuleIdentifiers.UnmatchedKmap);

    internal override string FixAllTitle(string equivalenceKey) => "Unmap every page before the jumps that skip its unmap";

    internal override async Task<IReadOnlyList<FixPlan>> PlanAsync(FixInput input, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        var plans = new List<FixPlan>();
        SemanticModel model = input.Model;
        KnownSymbols symbols = input.Symbols;
        InvocationExpressionSyntax? kmap = input.Related.Length == 1 ? FixSyntax.InvocationAt(input.Related[0]) : null;
        bool atomic = FixSyntax.Is(model, kmap, symbols.KmapAtomic, cancellationToken);
        if (kmap is null || !(atomic || FixSyntax.Is(model, kmap, symbols.Kmap, cancellationToken)) ||
            !diagnostic.GetMessage(CultureInfo.InvariantCulture).Contains("is not unmapped on the path") ||
            MappedLocal(kmap, model, cancellationToken) is not { } local || FixSyntax.Body(kmap) is not { } body)
        {
            return plans;
        }

        IMethodSymbol unmapMethod = atomic ? symbols.KunmapAtomic : symbols.Kunmap;
        ExpressionStatementSyntax? unmap = body.DescendantNodes().OfType<ExpressionStatementSyntax>().FirstOrDefault(s =>
            s.Expression is InvocationExpressionSyntax call && FixSyntax.Is(model, call, unmapMethod, cancellationToken) &&
            FixSyntax.SameReceiver(model, call, kmap, cancellationToken) && call.ArgumentList.Arguments.Count == 2 &&
            FixSyntax.References(call.ArgumentList.Arguments[1], local, model, cancellationToken).Any());
        if (unmap is null)
        {
            return plans;
        }

        // try { page = buf.Kmap(n); } catch { page = null; }: the whole try is the acquire (its catch writes the local).
        StatementSyntax acquire = kmap.Ancestors().OfType<StatementSyntax>().First();
        if (acquire.Parent is BlockSyntax { Statements.Count: 1, Parent: TryStatementSyntax tryStatement } && tryStatement.Finally is null)
        {
            acquire = tryStatement;
        }

        if (await JumpRelease.PlanAsync(input, diagnostic, acquire, unmap, JumpRelease.Reads(unmap, model, cancellationToken), "Unmap the page before the jumps that skip it", UnmapBeforeJumpKey, cancellationToken).ConfigureAwait(false) is { } plan)
        {
            plans.Add(plan);
        }

        return plans;
    }

    /// <summary>The local the mapping is stored in: <c>var page = buf.Kmap(n);</c> or <c>page = buf.Kmap(n);</c>.</summary>
    private static ILocalSymbol? MappedLocal(InvocationExpressionSyntax kmap, SemanticModel model, CancellationToken cancellationToken) => kmap.Parent switch
    {
        EqualsValueClauseSyntax { Parent: VariableDeclaratorSyntax declarator } => model.GetDeclaredSymbol(declarator, cancellationToken) as ILocalSymbol,
        AssignmentExpressionSyntax { Left: IdentifierNameSyntax target } assignment when assignment.Right == kmap => model.GetSymbolInfo(target, cancellationToken).Symbol as ILocalSymbol,
        _ => null,
    };
}
