// DMA0010 on a path that jumps past the Put: "Put the reference before the jumps that skip it" (DMA0010.PutBeforeJump)
// puts it before the goto or break that drops it (a check in a loop that jumps to a shared error label).
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

namespace DmaBuf.CodeFixes;

/// <summary>
/// DMA0010 (reported at the way out, the Get, Export or call of a helper that hands its caller a reference being the
/// additional location) for a reference stored in a
/// local and not put on some path: "Put the reference before the jumps that skip it" (<c>DMA0010.PutBeforeJump</c>)
/// inserts <c>b.Put();</c> before each <c>break</c>, <c>continue</c> or <c>goto</c> after the acquire on whose path
/// the reference is still held and not kept, as the analyzers tell jump by jump; offered when they confirm that the
/// whole removes the diagnostic and adds none. The way out itself may lie where the local is out of scope (after the
/// loop that declares it), which is why the Put goes at the jump.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UnputReferenceAtJumpFixer))]
public sealed class UnputReferenceAtJumpFixer : DmaBufFixer
{
    /// <inheritdoc />
    private protected override bool FixesWholeSolution => false;

    /// <summary>The equivalence key of "Put the reference before the jumps that skip it".</summary>
    public const string PutBeforeJumpKey = "DMA0010.PutBeforeJump";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(RuleIdentifiers.UnputBufferReference);

    internal override string FixAllTitle(string equivalenceKey) => "Put every reference before the jumps that drop it";

    internal override async Task<IReadOnlyList<FixPlan>> PlanAsync(FixInput input, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        var plans = new List<FixPlan>();
        InvocationExpressionSyntax? acquire = input.Related.Length == 1 ? FixSyntax.InvocationAt(input.Related[0]) : null;
        if (acquire is null ||
            !FixSyntax.TakesReference(input, acquire, cancellationToken) ||
            !diagnostic.GetMessage(CultureInfo.InvariantCulture).Contains("is not put on the path") ||
            FixSyntax.StoredLocal(acquire, input.Model, cancellationToken) is not { } stored)
        {
            return plans;
        }

        StatementSyntax put = SyntaxFactory.ParseStatement($"{stored.Name.ValueText}.Put();");
        string title = $"Put '{stored.Name.ValueText}' before the jumps that skip it";
        if (await JumpRelease.PlanAsync(input, diagnostic, stored.Statement, put, new ISymbol[] { stored.Local }, title, PutBeforeJumpKey, cancellationToken).ConfigureAwait(false) is { } plan)
        {
            plans.Add(plan);
        }

        return plans;
    }
}
