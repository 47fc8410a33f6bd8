// DMA0001 at one way out: "End CPU access before this return" (DMA0001.EndBeforeExit) ends the access on the path the
// diagnostic names, with the begin's own range and direction, where no scope or finally block can cover the access
// (a begin in a try whose failure is checked later, an access that other paths end themselves); for a CpuAccess scope
// kept in a local that a later using disposes, "Dispose the CPU access scope before this return" under the same key.
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
/// DMA0001 (reported at the way out, the begin being the additional location): "End CPU access before this return"
/// (<c>DMA0001.EndBeforeExit</c>) inserts <c>buf.EndCpuAccess(start, length, direction)</c>, or
/// <c>buf.EndCpuAccess(direction)</c> for a whole-buffer begin (<c>buf?.EndCpuAccess</c> for a begin through <c>?.</c>), with the begin's
/// arguments just before the return or throw (or at the end of the body), before a Put of the same buffer there.
/// Offered when the buffer and the arguments name the same values there as at the begin (nothing between writes
/// them), and the analyzers confirm that the end removes
/// the diagnostic and adds none (every path to that way out has the access begun). When they do not, the same end
/// under the condition the begin is under, then a copy of the code's own if/else that ends the access, are tried.
/// For a <c>CpuAccessScope</c> kept in a local that the code reads (<c>var scope = mode switch { ... };</c> then
/// <c>using (scope)</c>), "Dispose the CPU access scope 'scope' before this return" inserts <c>scope.Dispose();</c>
/// there instead, checked the same way.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UnendedCpuAccessAtExitFixer))]
public sealed class UnendedCpuAccessAtExitFixer : ExitReleaseFixer
{
    /// <summary>The equivalence key of "End CPU access before this return".</summary>
    public const string EndBeforeExitKey = "DMA0001.EndBeforeExit";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(RuleIdentifiers.UnendedCpuAccess);

    internal override string FixAllTitle(string equivalenceKey) => "End every CPU access on the ways out that leave it begun";

    internal override string EquivalenceKey => EndBeforeExitKey;

    internal override ReleaseAtExit? Describe(FixInput input, CancellationToken cancellationToken)
    {
        SemanticModel model = input.Model;
        InvocationExpressionSyntax? begin = input.Related.Length == 1 ? FixSyntax.InvocationAt(input.Related[0]) : null;
        if (begin is not null && ScopeLocal(begin, model, input.Symbols, cancellationToken) is { } scope)
        {
            return DisposeAtExit(input, begin, scope.Declaration, scope.Local, cancellationToken);
        }

        if (begin is null || !CpuAccessCall.IsBegin(model, input.Symbols, begin, cancellationToken) ||
            !CpuAccessCall.HasPositionalArguments(begin) ||
            BeginStatement(begin) is not { } beginStatement ||
            Receiver(begin) is not { } receiver ||
            ExitRelease.Find(input, beginStatement) is not { } exit ||
            !exit.IsStable(receiver, begin, model, cancellationToken) ||
            begin.ArgumentList.Arguments.Any(a => !exit.IsStable(a.Expression, begin, model, cancellationToken)))
        {
            return null;
        }

        StatementSyntax end = SyntaxFactory.ExpressionStatement(begin.Parent is ConditionalAccessExpressionSyntax conditional
            ? conditional.WithWhenNotNull(CpuAccessCall.Renamed(begin, "EndCpuAccess")).WithoutTrivia()
            : CpuAccessCall.Renamed(begin, "EndCpuAccess"));
        var buffer = new List<ISymbol>();
        if (FixSyntax.ReceiverSymbol(model, receiver, cancellationToken) is { } symbol)
        {
            buffer.Add(symbol);
        }

        string title = $"End CPU access to '{receiver}' {exit.Where}";
        bool KeepAfter(StatementSyntax s) => IsReleaseOf(s, receiver, "Put", "Detach");
        ReleaseAtExit? own = OwnEnd(begin, receiver, exit, model, input.Symbols, cancellationToken) is { } ownEnd
            ? new ReleaseAtExit(exit, ownEnd, title, buffer, KeepAfter)
            : null;
        return new ReleaseAtExit(exit, end, title, buffer, KeepAfter)
        {
            Fallback = Guard(beginStatement, exit, model, cancellationToken) is { } condition
                ? new ReleaseAtExit(exit, SyntaxFactory.IfStatement(condition.WithoutTrivia(), end), title, buffer, KeepAfter) { Fallback = own }
                : own,
        };
    }

    /// <summary>
    /// A <c>CpuAccessScope</c> kept in a local that the code reads (disposes it itself on other paths, as a
    /// <c>using (scope)</c> later; a local nothing reads is <see cref="UndisposedScopeFixer"/>'s):
    /// <c>scope.Dispose();</c> at the way out that leaves before that, where the local is in scope and nothing
    /// between its declaration and the way out assigns it. Disposing ends the access as it was begun,
    /// whichever call made the scope (an arm of a switch expression, a helper that returns one).
    /// </summary>
    private static ReleaseAtExit? DisposeAtExit(FixInput input, InvocationExpressionSyntax begin, LocalDeclarationStatementSyntax declaration, ILocalSymbol local, CancellationToken cancellationToken)
    {
        SemanticModel model = input.Model;
        if (ExitRelease.Find(input, declaration) is not { } exit || declaration.Parent is not BlockSyntax block ||
            !block.Span.Contains(exit.Position) ||
            !FixSyntax.References(exit.Body, local, model, cancellationToken).Any(r => !FixSyntax.IsWrite(r)) ||
            FixSyntax.References(exit.Body, local, model, cancellationToken).Any(r => FixSyntax.IsWrite(r) && r.SpanStart > declaration.Span.End && r.SpanStart < exit.Position))
        {
            return null;
        }

        StatementSyntax dispose = SyntaxFactory.ExpressionStatement(SyntaxFactory.InvocationExpression(
            SyntaxFactory.MemberAccessExpression(SyntaxKind.SimpleMemberAccessExpression, SyntaxFactory.IdentifierName(local.Name), SyntaxFactory.IdentifierName("Dispose"))));
        var reads = new List<ISymbol> { local };
        ExpressionSyntax? receiver = FixSyntax.Receiver(begin);
        if (FixSyntax.ReceiverSymbol(model, receiver, cancellationToken) is { } buffer)
        {
            reads.Add(buffer);
        }

        bool KeepAfter(StatementSyntax s) => receiver is not null && IsReleaseOf(s, receiver, "Put", "Detach");
        return new ReleaseAtExit(exit, dispose, $"Dispose the CPU access scope '{local.Name}' {exit.Where}", reads, KeepAfter);
    }

    /// <summary>
    /// The local a <c>CpuAccessScope</c> call's result is stored in by a declaration of its own (directly, or as an
    /// arm of a switch or conditional expression that is the initializer), not a using declaration; null otherwise.
    /// </summary>
    private static (LocalDeclarationStatementSyntax Declaration, ILocalSymbol Local)? ScopeLocal(InvocationExpressionSyntax call, SemanticModel model, KnownSymbols symbols, CancellationToken cancellationToken)
    {
        if (!SymbolEqualityComparer.Default.Equals(model.GetTypeInfo(call, cancellationToken).Type, symbols.CpuAccessScope))
        {
            return null;
        }

        SyntaxNode value = call;
        while (value.Parent is ParenthesizedExpressionSyntax or SwitchExpressionArmSyntax or SwitchExpressionSyntax ||
            value.Parent is ConditionalExpressionSyntax conditional && conditional.Condition != value)
        {
            if (value.Parent is SwitchExpressionArmSyntax arm && arm.Expression != value ||
                value.Parent is SwitchExpressionSyntax switchExpression && switchExpression.GoverningExpression == value)
            {
                return null;
            }

            value = value.Parent;
        }

        return value.Parent is EqualsValueClauseSyntax { Parent: VariableDeclaratorSyntax { Parent.Parent: LocalDeclarationStatementSyntax declaration } declarator } &&
            declaration.UsingKeyword.IsKind(SyntaxKind.None) && declaration.Declaration.Variables.Count == 1 &&
            model.GetDeclaredSymbol(declarator, cancellationToken) is ILocalSymbol { IsRef: false } local &&
            SymbolEqualityComparer.Default.Equals(local.Type, symbols.CpuAccessScope)
            ? (declaration, local)
            : null;
    }

    /// <summary>
    /// The code's own ending statement, copied: an <c>if</c> of the body's block whose branches only end CPU access on
    /// the buffer, one of them with the begin's arguments, under conditions free of effects that read what still has
    /// the same value at the way out (<c>if (upload) buf.EndCpuAccess(..., ToDevice); else buf.EndCpuAccess(...,
    /// FromDevice);</c> after the same choice of begins). Null when there is none.
    /// </summary>
    private static StatementSyntax? OwnEnd(InvocationExpressionSyntax begin, ExpressionSyntax receiver, ExitRelease exit, SemanticModel model, KnownSymbols symbols, CancellationToken cancellationToken)
    {
        foreach (IfStatementSyntax candidate in exit.Body.DescendantNodes().OfType<IfStatementSyntax>())
        {
            if (candidate.Parent is not BlockSyntax || candidate.Else is null || candidate.SpanStart < begin.Span.End ||
                candidate.Span.Contains(exit.Position))
            {
                continue;
            }

            List<InvocationExpressionSyntax> calls = candidate.DescendantNodes().OfType<InvocationExpressionSyntax>().ToList();
            if (calls.Count == 0 || !calls.All(c => CpuAccessCall.IsEnd(model, symbols, c, cancellationToken) &&
                    FixSyntax.Receiver(c) is { } r && SyntaxFactory.AreEquivalent(r, receiver) && c.Parent is ExpressionStatementSyntax) ||
                !calls.Any(c => FixSyntax.SameArguments(c, begin)) ||
                candidate.DescendantNodesAndSelf().OfType<IfStatementSyntax>().Any(i => FixSyntax.HasEffects(i.Condition)) ||
                !candidate.DescendantNodesAndSelf().OfType<IfStatementSyntax>().SelectMany(i => i.Condition.DescendantNodesAndSelf().OfType<IdentifierNameSyntax>())
                    .All(id => exit.IsStable(id, begin, model, cancellationToken)) ||
                !calls.SelectMany(c => c.ArgumentList.Arguments).All(a => exit.IsStable(a.Expression, begin, model, cancellationToken)))
            {
                continue;
            }

            return candidate.WithoutTrivia();
        }

        return null;
    }

    /// <summary>
    /// The condition of the <c>if</c> (without an else) the begin is under, when the way out is not under it too and
    /// the condition, free of effects, reads only what still has the same value at the way out: the end the code
    /// writes after such a begin is guarded the same way (<c>if (attach != null) attach.Buffer.EndCpuAccess(...)</c>).
    /// </summary>
    private static ExpressionSyntax? Guard(StatementSyntax beginStatement, ExitRelease exit, SemanticModel model, CancellationToken cancellationToken)
    {
        IfStatementSyntax? guard = beginStatement.Ancestors().TakeWhile(a => a != exit.Body).OfType<IfStatementSyntax>().FirstOrDefault();
        if (guard is null || guard.Else is not null || exit.Exit is { } way && guard.Statement.Span.Contains(way.Span) || FixSyntax.HasEffects(guard.Condition))
        {
            return null;
        }

        return guard.Condition.DescendantNodesAndSelf().OfType<IdentifierNameSyntax>()
            .Where(id => id.Parent is not MemberAccessExpressionSyntax { Name: var name } || name != id)
            .All(id => exit.IsStable(id, beginStatement, model, cancellationToken))
            ? guard.Condition
            : null;
    }

    /// <summary>The statement of <c>buf.BeginCpuAccess(...);</c> or <c>buf?.BeginCpuAccess(...);</c>.</summary>
    private static ExpressionStatementSyntax? BeginStatement(InvocationExpressionSyntax begin) => begin.Parent switch
    {
        ExpressionStatementSyntax statement => statement,
        ConditionalAccessExpressionSyntax { Parent: ExpressionStatementSyntax statement } conditional when conditional.WhenNotNull == begin => statement,
        _ => null,
    };

    /// <summary>The buffer of <c>buf.BeginCpuAccess(...)</c> or <c>buf?.BeginCpuAccess(...)</c>.</summary>
    private static ExpressionSyntax? Receiver(InvocationExpressionSyntax begin) =>
        begin.Parent is ConditionalAccessExpressionSyntax { Expression: var receiver } && begin.Expression is MemberBindingExpressionSyntax
            ? receiver
            : FixSyntax.Receiver(begin);

    /// <summary>Whether the statement is <c>buf.Name(...);</c> with one of <paramref name="names"/>, on the same buffer expression.</summary>
    internal static bool IsReleaseOf(StatementSyntax statement, ExpressionSyntax receiver, params string[] names) =>
        statement is ExpressionStatementSyntax { Expression: InvocationExpressionSyntax { Expression: MemberAccessExpressionSyntax access } } &&
        names.Contains(access.Name.Identifier.ValueText) &&
        SyntaxFactory.AreEquivalent(access.Expression, receiver);
}
