// DMA0007 for a page mapped where a CPU access scope is taken on some paths only (`using var access = coherent ? null
// : buf.CpuAccess(...);`): "Take the CPU access on every path" (DMA0007.AccessOnEveryPath) takes the scope always.
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
/// DMA0007 (reported at the kmap) where the scope in effect there is a <c>using</c> of a conditional expression with a
/// <c>null</c> (or <c>default</c>) arm and a <c>CpuAccess(...)</c> of the same buffer in the other
/// (<c>using var access = coherent ? null : buf.CpuAccess(0, PageSize, FromDevice);</c>, or the same as a using
/// statement's resource): "Take the CPU access on every path" (<c>DMA0007.AccessOnEveryPath</c>) keeps only the
/// <c>CpuAccess</c> arm. Begin/end is needed for every buffer, coherent or not, so taking the access the code takes on
/// the other paths is the change the rule asks for. Only when the condition has no effects (it is then no longer
/// evaluated) and does not test the buffer for null (the access would then throw), the scope's local is not used otherwise, and the analyzers confirm that the kmap's diagnostic goes and
/// none comes (a scope that would begin where an atomic mapping is held is not offered).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(ConditionalCpuAccessFixer))]
public sealed class ConditionalCpuAccessFixer : DmaBufFixer
{
    /// <summary>The equivalence key of "Take the CPU access on every path".</summary>
    public const string AccessOnEveryPathKey = "DMA0007.AccessOnEveryPath";

    /// <inheritdoc />
    private protected override bool FixesWholeSolution => false;

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(RuleIdentifiers.KmapWithoutCpuAccess);

    internal override string FixAllTitle(string equivalenceKey) => "Take every conditional CPU access on every path";

    internal override async Task<IReadOnlyList<FixPlan>> PlanAsync(FixInput input, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        var plans = new List<FixPlan>();
        SemanticModel model = input.Model;
        KnownSymbols symbols = input.Symbols;
        InvocationExpressionSyntax? kmap = FixSyntax.InvocationAt(input.Primary);
        if (kmap is null ||
            !(FixSyntax.Is(model, kmap, symbols.Kmap, cancellationToken) || FixSyntax.Is(model, kmap, symbols.KmapAtomic, cancellationToken)) ||
            FixSyntax.ReceiverSymbol(model, FixSyntax.Receiver(kmap), cancellationToken) is not { } buffer ||
            FixSyntax.Body(kmap) is not { } body)
        {
            return plans;
        }

        // The innermost using around the kmap whose resource is such a conditional.
        (ConditionalExpressionSyntax Conditional, ExpressionSyntax Access)? found = null;
        foreach (ConditionalExpressionSyntax conditional in body.DescendantNodes().OfType<ConditionalExpressionSyntax>())
        {
            if (conditional.SpanStart < kmap.SpanStart && Access(conditional, model, symbols, buffer, cancellationToken) is { } access &&
                Covers(conditional, kmap, body, model, cancellationToken))
            {
                found = (conditional, access);
            }
        }

        if (found is not { } use)
        {
            return plans;
        }

        DocumentEditor editor = await DocumentEditor.CreateAsync(input.Document, cancellationToken).ConfigureAwait(false);
        editor.ReplaceNode(use.Conditional, use.Access.WithTriviaFrom(use.Conditional).WithAdditionalAnnotations(Formatter.Annotation));
        FixPlan? plan = await FixCheck.PlanIfFixesAsync(input.Document, editor.GetChangedDocument(), diagnostic, "Take the CPU access on every path", AccessOnEveryPathKey, cancellationToken).ConfigureAwait(false);
        if (plan is not null)
        {
            plans.Add(plan);
        }

        return plans;
    }

    /// <summary>The <c>buf.CpuAccess(...)</c> arm of <c>c ? null : buf.CpuAccess(...)</c> (either order), when the condition has no effects.</summary>
    private static ExpressionSyntax? Access(ConditionalExpressionSyntax conditional, SemanticModel model, KnownSymbols symbols, ISymbol buffer, CancellationToken cancellationToken)
    {
        ExpressionSyntax? arm = FixSyntax.IsNull(conditional.WhenTrue) ? conditional.WhenFalse : FixSyntax.IsNull(conditional.WhenFalse) ? conditional.WhenTrue : null;
        return arm is not null && FixSyntax.Unparenthesized(arm) is InvocationExpressionSyntax call &&
            FixSyntax.Is(model, call, symbols.CpuAccess, cancellationToken) &&
            SymbolEqualityComparer.Default.Equals(FixSyntax.ReceiverSymbol(model, FixSyntax.Receiver(call), cancellationToken), buffer) &&
            !FixSyntax.HasEffects(conditional.Condition) && !TestsForNull(conditional.Condition, buffer, model, cancellationToken)
            ? call.WithoutTrivia()
            : null;
    }

    /// <summary>
    /// Whether <paramref name="condition"/> tests <paramref name="buffer"/> for null (<c>buf == null</c>,
    /// <c>buf is null</c>, <c>buf?.X</c>): the null arm is then there for a missing buffer, and taking the access
    /// always would throw.
    /// </summary>
    private static bool TestsForNull(ExpressionSyntax condition, ISymbol buffer, SemanticModel model, CancellationToken cancellationToken) =>
        FixSyntax.References(condition, buffer, model, cancellationToken).Any(id =>
        {
            SyntaxNode node = id;
            while (node.Parent is ParenthesizedExpressionSyntax or MemberAccessExpressionSyntax { Expression: ThisExpressionSyntax })
            {
                node = node.Parent;
            }

            return node.Parent switch
            {
                BinaryExpressionSyntax b when b.IsKind(SyntaxKind.EqualsExpression) || b.IsKind(SyntaxKind.NotEqualsExpression) || b.IsKind(SyntaxKind.CoalesceExpression) => true,
                IsPatternExpressionSyntax => true,
                ConditionalAccessExpressionSyntax access => access.Expression == node,
                _ => false,
            };
        });

    /// <summary>
    /// Whether <paramref name="conditional"/> is the resource of a using whose scope holds <paramref name="kmap"/>: a
    /// using declaration of a block that holds it after the declaration, or a using statement around it; and the
    /// local it declares, if any, is not used.
    /// </summary>
    private static bool Covers(ConditionalExpressionSyntax conditional, InvocationExpressionSyntax kmap, SyntaxNode body, SemanticModel model, CancellationToken cancellationToken)
    {
        SyntaxNode resource = conditional;
        while (resource.Parent is ParenthesizedExpressionSyntax)
        {
            resource = resource.Parent;
        }

        VariableDeclaratorSyntax? declarator = null;
        bool covers;
        switch (resource.Parent)
        {
            case UsingStatementSyntax statement when statement.Expression == resource:
                covers = statement.Statement.Span.Contains(kmap.Span);
                break;
            case EqualsValueClauseSyntax { Parent: VariableDeclaratorSyntax { Parent: VariableDeclarationSyntax { Variables.Count: 1 } declaration } v }:
                declarator = v;
                covers = declaration.Parent switch
                {
                    UsingStatementSyntax statement => statement.Statement.Span.Contains(kmap.Span),
                    LocalDeclarationStatementSyntax { UsingKeyword.RawKind: (int)SyntaxKind.UsingKeyword, Parent: BlockSyntax block } statement =>
                        block.Span.Contains(kmap.Span) && kmap.SpanStart > statement.Span.End,
                    _ => false,
                };
                break;
            default:
                return false;
        }

        return covers &&
            (declarator is null ||
             (model.GetDeclaredSymbol(declarator, cancellationToken) is ILocalSymbol local && !FixSyntax.References(body, local, model, cancellationToken).Any()));
    }
}
