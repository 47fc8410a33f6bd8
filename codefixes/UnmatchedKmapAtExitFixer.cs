// DMA0003 at one way out: "Unmap page N before this return" (DMA0003.UnmapBeforeExit) unmaps a mapping on the path the
// diagnostic names, where the mapping is unmapped on the other paths (an early return between kmap and kunmap, a
// break out of the loop that maps), also for a page held in a DmaBufPage? local mapped under a condition.
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using DmaBuf.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace DmaBuf.CodeFixes;

/// <summary>
/// DMA0003 (reported at the way out, the mapping being the additional location): "Unmap page N before this return"
/// (<c>DMA0003.UnmapBeforeExit</c>) inserts <c>buf.Kunmap(N, page)</c> (or <c>KunmapAtomic</c>) just before the
/// return or throw, before an end of CPU access or a Put of the same buffer there. For a mapping held in a local
/// that is not handed on, with a buffer and page that name the same values there, and only when the analyzers confirm that the unmap removes the diagnostic and adds none.
/// A page held in a <c>DmaBufPage?</c> local (<c>DmaBufPage? page = c ? buf.Kmap(N) : null;</c>) is unmapped
/// through what is known to hold it at the way out: the variable of an enclosing <c>if (page is { } p ...)</c>, or
/// <c>page.Value</c> under <c>if (page.HasValue ...)</c>, <c>page != null</c> or <c>page is not null</c>; elsewhere
/// under the same test the code would write, <c>if (page.HasValue) buf.Kunmap(N, page.Value);</c>.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UnmatchedKmapAtExitFixer))]
public sealed class UnmatchedKmapAtExitFixer : ExitReleaseFixer
{
    /// <summary>The equivalence key of "Unmap page N before this return".</summary>
    public const string UnmapBeforeExitKey = "DMA0003.UnmapBeforeExit";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(RuleIdentifiers.UnmatchedKmap);

    internal override string FixAllTitle(string equivalenceKey) => "Unmap every page on the ways out that leave it mapped";

    internal override string EquivalenceKey => UnmapBeforeExitKey;

    internal override ReleaseAtExit? Describe(FixInput input, CancellationToken cancellationToken)
    {
        SemanticModel model = input.Model;
        MappingLocal? mapping = input.Related.Length == 1 ? MappingLocal.From(input.Related[0], model, input.Symbols, cancellationToken) : null;
        if (mapping is null && input.Related.Length == 1)
        {
            return DescribeNullable(input, cancellationToken);
        }

        if (mapping is null || mapping.IsUsing || mapping.Escapes ||
            ExitRelease.Find(input, mapping.Statement) is not { } exit ||
            !exit.IsStable(mapping.Receiver, mapping.Call, model, cancellationToken) ||
            !exit.IsStable(mapping.PageArgument, mapping.Call, model, cancellationToken))
        {
            return null;
        }

        StatementSyntax unmap = Unmap(mapping.Receiver, mapping.Atomic, mapping.PageArgument, SyntaxFactory.IdentifierName(mapping.Local.Name));
        return new ReleaseAtExit(
            exit, unmap, $"Unmap page {mapping.PageArgument} {exit.Where}", new ISymbol[] { mapping.Local }, s => KeepAfter(s, mapping.Receiver));
    }

    private static bool KeepAfter(StatementSyntax statement, ExpressionSyntax receiver) =>
        UnendedCpuAccessAtExitFixer.IsReleaseOf(statement, receiver, "Put", "Detach", "EndCpuAccess");

    private static StatementSyntax Unmap(ExpressionSyntax receiver, bool atomic, ExpressionSyntax page, ExpressionSyntax mapping) =>
        SyntaxFactory.ExpressionStatement(SyntaxFactory.InvocationExpression(
            SyntaxFactory.MemberAccessExpression(SyntaxKind.SimpleMemberAccessExpression, receiver.WithoutTrivia(), SyntaxFactory.IdentifierName(atomic ? "KunmapAtomic" : "Kunmap")),
            SyntaxFactory.ArgumentList(SyntaxFactory.SeparatedList(new[] { SyntaxFactory.Argument(page.WithoutTrivia()), SyntaxFactory.Argument(mapping) }))));

    /// <summary>
    /// The unmap of a page held in a <c>DmaBufPage?</c> local declared by <c>T? page = c ? buf.Kmap(N) : null;</c>
    /// (either arm, <c>null</c> or <c>default</c> in the other), which is only tested, read through <c>Value</c> or
    /// matched by patterns whose variables are only read: through what an enclosing test says holds the page, or
    /// under <c>if (page.HasValue)</c>.
    /// </summary>
    private static ReleaseAtExit? DescribeNullable(FixInput input, CancellationToken cancellationToken)
    {
        SemanticModel model = input.Model;
        KnownSymbols symbols = input.Symbols;
        InvocationExpressionSyntax? call = FixSyntax.InvocationAt(input.Related[0]);
        if (call is null || call.ArgumentList.Arguments.Count != 1 || FixSyntax.Receiver(call) is not { } receiver)
        {
            return null;
        }

        bool atomic = FixSyntax.Is(model, call, symbols.KmapAtomic, cancellationToken);
        if (!atomic && !FixSyntax.Is(model, call, symbols.Kmap, cancellationToken))
        {
            return null;
        }

        SyntaxNode arm = call;
        while (arm.Parent is ParenthesizedExpressionSyntax)
        {
            arm = arm.Parent;
        }

        if (arm.Parent is not ConditionalExpressionSyntax conditional || conditional.Condition == arm ||
            !FixSyntax.IsNull(conditional.WhenTrue == arm ? conditional.WhenFalse : conditional.WhenTrue) ||
            conditional.Parent is not EqualsValueClauseSyntax { Parent: VariableDeclaratorSyntax { Parent: VariableDeclarationSyntax { Variables.Count: 1, Parent: LocalDeclarationStatementSyntax { Parent: BlockSyntax } statement } } declarator } ||
            !statement.UsingKeyword.IsKind(SyntaxKind.None) || !statement.AwaitKeyword.IsKind(SyntaxKind.None) ||
            model.GetDeclaredSymbol(declarator, cancellationToken) is not ILocalSymbol { IsRef: false, Type: INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } } local ||
            FixSyntax.Body(statement) is not { } body ||
            ExitRelease.Find(input, statement) is not { } exit ||
            !exit.IsStable(receiver, call, model, cancellationToken) || !exit.IsStable(call.ArgumentList.Arguments[0].Expression, call, model, cancellationToken))
        {
            return null;
        }

        var patternLocals = new List<ILocalSymbol>();
        foreach (IdentifierNameSyntax id in FixSyntax.References(body, local, model, cancellationToken))
        {
            if (!IsTestOrRead(id, model, symbols, patternLocals, cancellationToken))
            {
                return null;
            }
        }

        foreach (ILocalSymbol p in patternLocals)
        {
            if (FixSyntax.References(body, p, model, cancellationToken).Any(r => !IsRead(r, model, symbols, cancellationToken)))
            {
                return null;
            }
        }

        ExpressionSyntax page = call.ArgumentList.Arguments[0].Expression;
        string title = $"Unmap page {page} {exit.Where}";
        ExpressionSyntax value = SyntaxFactory.MemberAccessExpression(SyntaxKind.SimpleMemberAccessExpression, SyntaxFactory.IdentifierName(local.Name), SyntaxFactory.IdentifierName("Value"));
        StatementSyntax guarded = SyntaxFactory.IfStatement(
            SyntaxFactory.MemberAccessExpression(SyntaxKind.SimpleMemberAccessExpression, SyntaxFactory.IdentifierName(local.Name), SyntaxFactory.IdentifierName("HasValue")),
            Unmap(receiver, atomic, page, value));
        var reads = patternLocals.Cast<ISymbol>().Prepend(local).ToList();
        var fallback = new ReleaseAtExit(exit, guarded, title, reads, s => KeepAfter(s, receiver));
        if (exit.Exit is not { } way || Holder(way, body, local, model, cancellationToken) is not { } holder)
        {
            return fallback;
        }

        return new ReleaseAtExit(exit, Unmap(receiver, atomic, page, holder), title, reads, s => KeepAfter(s, receiver)) { Fallback = fallback };
    }

    /// <summary>
    /// Whether a reference to the nullable local only tests it (<c>HasValue</c>, <c>== null</c>, a pattern, whose
    /// variable is added to <paramref name="patternLocals"/>) or reads the page through <c>Value</c>.
    /// </summary>
    private static bool IsTestOrRead(IdentifierNameSyntax id, SemanticModel model, KnownSymbols symbols, List<ILocalSymbol> patternLocals, CancellationToken cancellationToken)
    {
        switch (id.Parent)
        {
            case MemberAccessExpressionSyntax { Name.Identifier.ValueText: "HasValue" } access when access.Expression == id:
                return true;
            case MemberAccessExpressionSyntax { Name.Identifier.ValueText: "Value" } access when access.Expression == id:
                return IsRead(access, model, symbols, cancellationToken);
            case BinaryExpressionSyntax { RawKind: (int)SyntaxKind.EqualsExpression or (int)SyntaxKind.NotEqualsExpression } compare:
                return FixSyntax.IsNull(compare.Left == id ? compare.Right : compare.Left);
            case IsPatternExpressionSyntax { Pattern: var pattern } test when test.Expression == id:
                foreach (SingleVariableDesignationSyntax designation in pattern.DescendantNodesAndSelf().OfType<SingleVariableDesignationSyntax>())
                {
                    if (model.GetDeclaredSymbol(designation, cancellationToken) is not ILocalSymbol p ||
                        p.Type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T })
                    {
                        return false;
                    }

                    // The variables of subpatterns ({ PageNumber: var n }) hold values read from the page, not the page.
                    if (SymbolEqualityComparer.Default.Equals(p.Type, symbols.DmaBufPage))
                    {
                        patternLocals.Add(p);
                    }
                }

                return true;
            default:
                return false;
        }
    }

    /// <summary>Whether the page at <paramref name="page"/> is only read through (<c>page.Span</c>) or unmapped there.</summary>
    private static bool IsRead(ExpressionSyntax page, SemanticModel model, KnownSymbols symbols, CancellationToken cancellationToken)
    {
        if (page is IdentifierNameSyntax id && FixSyntax.IsWrite(id))
        {
            return false;
        }

        return page.Parent switch
        {
            MemberAccessExpressionSyntax access when access.Expression == page => access.Name.Identifier.ValueText != "Dispose",
            ArgumentSyntax { RefKindKeyword.RawKind: (int)SyntaxKind.None, Parent: ArgumentListSyntax { Parent: InvocationExpressionSyntax unmap } list } argument =>
                list.Arguments.IndexOf(argument) == 1 &&
                (FixSyntax.Is(model, unmap, symbols.Kunmap, cancellationToken) || FixSyntax.Is(model, unmap, symbols.KunmapAtomic, cancellationToken)),
            _ => false,
        };
    }

    /// <summary>
    /// What holds the page at <paramref name="exit"/> by the tests of the ifs around it: the variable of a
    /// <c>page is { } p</c> (or <c>page is DmaBufPage p</c>) that the if's condition requires, or <c>page.Value</c>
    /// when it requires <c>page.HasValue</c>, <c>page != null</c> or <c>page is not null</c> (or its else requires the
    /// opposite); null when no test says.
    /// </summary>
    private static ExpressionSyntax? Holder(StatementSyntax exit, SyntaxNode body, ILocalSymbol local, SemanticModel model, CancellationToken cancellationToken)
    {
        for (SyntaxNode node = exit; node != body && node.Parent is { } parent; node = parent)
        {
            (IEnumerable<ExpressionSyntax> Facts, bool Negated) tests = parent switch
            {
                IfStatementSyntax s when s.Statement == node => (Split(s.Condition, SyntaxKind.LogicalAndExpression), false),
                ElseClauseSyntax { Parent: IfStatementSyntax s } => (Split(s.Condition, SyntaxKind.LogicalOrExpression), true),
                _ => (Enumerable.Empty<ExpressionSyntax>(), false),
            };
            foreach (ExpressionSyntax fact in tests.Facts)
            {
                if (HolderIn(fact, tests.Negated, local, model, cancellationToken) is { } holder)
                {
                    return holder;
                }
            }

            if (parent is AnonymousFunctionExpressionSyntax or LocalFunctionStatementSyntax)
            {
                return null;
            }
        }

        return null;
    }

    private static IEnumerable<ExpressionSyntax> Split(ExpressionSyntax condition, SyntaxKind kind)
    {
        condition = FixSyntax.Unparenthesized(condition);
        return condition is BinaryExpressionSyntax b && b.IsKind(kind)
            ? Split(b.Left, kind).Concat(Split(b.Right, kind))
            : new[] { condition };
    }

    /// <summary>What holds the page when <paramref name="fact"/> is true (with <paramref name="negated"/>, false).</summary>
    private static ExpressionSyntax? HolderIn(ExpressionSyntax fact, bool negated, ILocalSymbol local, SemanticModel model, CancellationToken cancellationToken)
    {
        bool IsLocal(ExpressionSyntax e) =>
            FixSyntax.Unparenthesized(e) is IdentifierNameSyntax id && SymbolEqualityComparer.Default.Equals(model.GetSymbolInfo(id, cancellationToken).Symbol, local);

        ExpressionSyntax value = SyntaxFactory.MemberAccessExpression(SyntaxKind.SimpleMemberAccessExpression, SyntaxFactory.IdentifierName(local.Name), SyntaxFactory.IdentifierName("Value"));
        SyntaxKind notNull = negated ? SyntaxKind.EqualsExpression : SyntaxKind.NotEqualsExpression;
        switch (FixSyntax.Unparenthesized(fact))
        {
            case PrefixUnaryExpressionSyntax { RawKind: (int)SyntaxKind.LogicalNotExpression } not:
                return HolderIn(not.Operand, !negated, local, model, cancellationToken);
            case MemberAccessExpressionSyntax { Name.Identifier.ValueText: "HasValue" } access when !negated && IsLocal(access.Expression):
                return value;
            case BinaryExpressionSyntax b when b.IsKind(notNull) && ((IsLocal(b.Left) && FixSyntax.IsNull(b.Right)) || (IsLocal(b.Right) && FixSyntax.IsNull(b.Left))):
                return value;
            case IsPatternExpressionSyntax test when IsLocal(test.Expression):
                return (test.Pattern, negated) switch
                {
                    (RecursivePatternSyntax { Designation: SingleVariableDesignationSyntax d }, false) => SyntaxFactory.IdentifierName(d.Identifier.ValueText),
                    (DeclarationPatternSyntax { Designation: SingleVariableDesignationSyntax d }, false) => SyntaxFactory.IdentifierName(d.Identifier.ValueText),
                    (RecursivePatternSyntax { Designation: null }, false) => value,
                    (UnaryPatternSyntax { Pattern: ConstantPatternSyntax { Expression: var e } }, false) when FixSyntax.IsNull(e) => value,
                    (ConstantPatternSyntax { Expression: var e }, true) when FixSyntax.IsNull(e) => value,
                    _ => null,
                };
            default:
                return null;
        }
    }
}
