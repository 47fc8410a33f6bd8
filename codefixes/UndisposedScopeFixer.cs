// DMA0001 for a CpuAccess scope kept in a local that nothing disposes: "Dispose the CPU access scope at the end of the
// block" (DMA0001.UsingScope) makes the declaration a using declaration.
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

namespace DmaBuf.CodeFixes;

/// <summary>
/// DMA0001 (the begin being the additional location) where the access is a <c>CpuAccessScope</c> (from
/// <c>buf.CpuAccess(...)</c> or a helper that returns one) stored in a local by a declaration of its own, and the
/// local is never read: "Dispose the CPU access scope at the end of the block" (<c>DMA0001.UsingScope</c>) writes
/// <c>using var scope = ...;</c>, so the scope's disposal ends the access on every way out of the block, which is
/// what a scope is for. Not offered where the local is read (handed on, disposed on some path: who ends it is then
/// the code's choice), where a using declaration is not allowed, or unless the analyzers confirm that it removes the
/// diagnostic and adds none.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UndisposedScopeFixer))]
public sealed class UndisposedScopeFixer : DmaBufFixer
{
    /// <inheritdoc />
    private protected override bool FixesWholeSolution => false;

    /// <summary>The equivalence key of "Dispose the CPU access scope at the end of the block".</summary>
    public const string UsingScopeKey = "DMA0001.UsingScope";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(RuleIdentifiers.UnendedCpuAccess);

    internal override string FixAllTitle(string equivalenceKey) => "Dispose every undisposed CPU access scope";

    internal override async Task<IReadOnlyList<FixPlan>> PlanAsync(FixInput input, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        var plans = new List<FixPlan>();
        SemanticModel model = input.Model;
        InvocationExpressionSyntax? begin = input.Related.Length == 1 ? FixSyntax.InvocationAt(input.Related[0]) : null;
        if (begin?.Parent is not EqualsValueClauseSyntax { Parent: VariableDeclaratorSyntax declarator } ||
            declarator.Parent?.Parent is not LocalDeclarationStatementSyntax declaration ||
            declaration.Declaration.Variables.Count != 1 || !declaration.UsingKeyword.IsKind(SyntaxKind.None) ||
            !FixSyntax.AllowsUsingDeclaration(declaration) ||
            !SymbolEqualityComparer.Default.Equals(model.GetTypeInfo(begin, cancellationToken).Type, input.Symbols.CpuAccessScope) ||
            model.GetDeclaredSymbol(declarator, cancellationToken) is not ILocalSymbol local ||
            FixSyntax.Body(declaration) is not { } body ||
            FixSyntax.References(body, local, model, cancellationToken).Any())
        {
            return plans;
        }

        Document document = input.Document;
        DocumentEditor editor = await DocumentEditor.CreateAsync(document, cancellationToken).ConfigureAwait(false);
        editor.ReplaceNode(declaration, declaration
            .WithUsingKeyword(SyntaxFactory.Token(SyntaxKind.UsingKeyword).WithLeadingTrivia(declaration.GetLeadingTrivia()).WithTrailingTrivia(SyntaxFactory.Space))
            .WithDeclaration(declaration.Declaration.WithoutLeadingTrivia()));
        if (await FixCheck.PlanIfFixesAsync(document, editor.GetChangedDocument(), diagnostic, "Dispose the CPU access scope at the end of the block", UsingScopeKey, cancellationToken).ConfigureAwait(false) is { } plan)
        {
            plans.Add(plan);
        }

        return plans;
    }
}
