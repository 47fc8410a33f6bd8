// DMA0007 for the shapes a mapping local does not cover: a helper called without access that maps the buffer, and a
// kmap stored in a variable declared elsewhere (inside a try) and unmapped later in the block. The statements that use
// the mapping get CPU access: an end just before them moves after them, or they are wrapped in a CpuAccess scope.
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using DmaBuf.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Editing;
using Microsoft.CodeAnalysis.Formatting;
using Microsoft.CodeAnalysis.Simplification;

namespace DmaBuf.CodeFixes;

/// <summary>
/// DMA0007 (reported at the kmap, or at the call of a helper that maps, the helper's kmap being the additional
/// location), <c>DMA0007.AccessAroundUse</c>, for a constant page N the diagnostic names, with no path reaching
/// there with access begun. The mapping's use is the statement that calls the helper, or, for a kmap stored in a
/// variable declared elsewhere (<c>try { ptr = buf.Kmap(0); } catch { ptr = null; }</c>), the statements from the
/// kmap's to the unmap of page N that follows in the same block. Then:
/// <list type="bullet">
/// <item>"End the CPU access after the mapping's use": when an end of that buffer, of an access begun with the same
/// constant arguments over page N, stands before them in the block, it moves after them;</item>
/// <item>"Begin CPU access for page N": otherwise they are wrapped in <c>using (buf.CpuAccess(N * PageSize, PageSize,
/// direction))</c> (a single declaration is split so that its local stays in scope), with the direction of a
/// CpuAccess scope under which the code calls the same helper, else of the nearest access begun on the buffer before,
/// else <c>Bidirectional</c>.</item>
/// </list>
/// An end inside the loop that maps, which ended the access for the next iterations, moves after the loop ("End the
/// CPU access after the loop").
/// Not for a mapping that escapes the method (stored in a field, returned: the access would have to last as long),
/// a kmap the code expects to fail (no unmap follows in the block, or a try around it catches the
/// ArgumentOutOfRangeException of a page outside the buffer), a negative page, or where an atomic mapping may
/// be held (CpuAccess may block); offered only when the analyzers confirm that it removes the diagnostic and adds
/// none.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(CpuAccessAroundUseFixer))]
public sealed class CpuAccessAroundUseFixer : DmaBufFixer
{
    /// <inheritdoc />
    private protected override bool FixesWholeSolution => false;

    /// <summary>The equivalence key of the fixes that give the mapping's use CPU access.</summary>
    public const string AccessAroundUseKey = "DMA0007.AccessAroundUse";

    private static readonly Regex PageAndBuffer = new(@"^Page (?<page>\d+) of '(?<buffer>[^']+)'", RegexOptions.Compiled | RegexOptions.CultureInvariant);

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(RuleIdentifiers.KmapWithoutCpuAccess);

    internal override string FixAllTitle(string equivalenceKey) => "Give every mapping's use CPU access";

    internal override async Task<IReadOnlyList<FixPlan>> PlanAsync(FixInput input, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        var plans = new List<FixPlan>();
        SemanticModel model = input.Model;
        KnownSymbols symbols = input.Symbols;
        string message = diagnostic.GetMessage(CultureInfo.InvariantCulture);
        Match match = PageAndBuffer.Match(message);
        InvocationExpressionSyntax? call = FixSyntax.InvocationAt(input.Primary);
        // An end in the loop that maps ended the access for the next iterations: it moves after the loop.
        if (call is not null && input.Related.Length == 1 && FixSyntax.InvocationAt(input.Related[0]) is { } loopEnd &&
            FixSyntax.Is(model, loopEnd, symbols.EndCpuAccess, cancellationToken) && message.Contains("the CPU access was ended at line") &&
            loopEnd.Parent?.Parent?.Parent is StatementSyntax loop && loop.Span.Contains(call.Span) &&
            RedundantEndCpuAccessFixer.AfterLoop(loopEnd) is { } moveAfterLoop)
        {
            DocumentEditor loopEditor = await DocumentEditor.CreateAsync(input.Document, cancellationToken).ConfigureAwait(false);
            if (moveAfterLoop(loopEditor) &&
                await FixCheck.PlanIfFixesAsync(input.Document, loopEditor.GetChangedDocument(), diagnostic, "End the CPU access after the loop", AccessAroundUseKey, cancellationToken).ConfigureAwait(false) is { } loopPlan)
            {
                plans.Add(loopPlan);
            }

            return plans;
        }

        if (!match.Success || message.Contains("on some path") || call is null || FixSyntax.Body(call) is not { } body ||
            !long.TryParse(match.Groups["page"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out long page))
        {
            return plans;
        }

        bool isKmap = FixSyntax.Is(model, call, symbols.Kmap, cancellationToken) || FixSyntax.Is(model, call, symbols.KmapAtomic, cancellationToken);
        ExpressionSyntax? receiver = isKmap
            ? FixSyntax.Receiver(call)
            : call.ArgumentList.Arguments.Select(a => a.Expression).Concat(FixSyntax.Receiver(call) is { } r ? new[] { r } : Enumerable.Empty<ExpressionSyntax>())
                .FirstOrDefault(e => e.ToString() == match.Groups["buffer"].Value);
        ISymbol? buffer = FixSyntax.ReceiverSymbol(model, receiver, cancellationToken);
        if (receiver is null || buffer is null || AtomicHold.MayBeHeldAt(body, call.SpanStart, model, symbols, new[] { call }, cancellationToken))
        {
            return plans;
        }

        List<StatementSyntax>? use = isKmap ? StoredMappingUse(call, page, buffer, model, symbols, cancellationToken) : CallUse(call);
        if (use is null || use[0].Parent is not BlockSyntax block)
        {
            return plans;
        }

        Document document = input.Document;
        int first = block.Statements.IndexOf(use[0]);
        DocumentEditor editor = await DocumentEditor.CreateAsync(document, cancellationToken).ConfigureAwait(false);
        string title;
        if (use[use.Count - 1] is not (ReturnStatementSyntax or ThrowStatementSyntax or BreakStatementSyntax or ContinueStatementSyntax or GotoStatementSyntax) &&
            KmapWithoutCpuAccessFixer.EndedBefore(block, first, buffer, page, model, symbols, cancellationToken) is { } end)
        {
            title = "End the CPU access after the mapping's use";
            FixSyntax.RemoveStatementKeepingComments(editor, end);
            editor.InsertAfter(use[use.Count - 1], end.WithLeadingTrivia(SyntaxFactory.ElasticMarker).WithTrailingTrivia(SyntaxFactory.ElasticMarker).WithAdditionalAnnotations(Formatter.Annotation));
        }
        else
        {
            title = $"Begin CPU access for page {page.ToString(CultureInfo.InvariantCulture)}";
            ExpressionSyntax direction = Direction(body, call, buffer, model, symbols, cancellationToken) ??
                SyntaxFactory.ParseExpression("global::DmaBuf.DmaDataDirection.Bidirectional").WithAdditionalAnnotations(Simplifier.Annotation);
            ExpressionSyntax scopeCall = (ExpressionSyntax)editor.Generator.InvocationExpression(
                SyntaxFactory.MemberAccessExpression(SyntaxKind.SimpleMemberAccessExpression, receiver.WithoutTrivia(), SyntaxFactory.IdentifierName("CpuAccess")),
                KmapOutsideBegunRangeFixer.Bytes(page * 4096),
                KmapOutsideBegunRangeFixer.Bytes(4096),
                direction);
            if (!Wrap(editor, block, use, scopeCall, model, cancellationToken))
            {
                return plans;
            }
        }

        Document edited = await Simplifier.ReduceAsync(editor.GetChangedDocument(), Simplifier.Annotation, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (await FixCheck.PlanIfFixesAsync(document, edited, diagnostic, title, AccessAroundUseKey, cancellationToken).ConfigureAwait(false) is { } plan)
        {
            plans.Add(plan);
        }

        return plans;
    }

    /// <summary>The statement of a block that calls the helper, when the call is not under a lambda or local function of it.</summary>
    private static List<StatementSyntax>? CallUse(InvocationExpressionSyntax call)
    {
        StatementSyntax? statement = call.Ancestors().OfType<StatementSyntax>().FirstOrDefault();
        return statement?.Parent is BlockSyntax && !call.Ancestors().TakeWhile(a => a != statement).Any(a => a is AnonymousFunctionExpressionSyntax)
            ? new List<StatementSyntax> { statement }
            : null;
    }

    /// <summary>
    /// For <c>v = buf.Kmap(N)</c> with <c>v</c> a local declared elsewhere: the statements of the block from the one
    /// holding the kmap to the first <c>buf.Kunmap(N, ...)</c> statement after it, when <c>v</c> goes nowhere else.
    /// </summary>
    private static List<StatementSyntax>? StoredMappingUse(InvocationExpressionSyntax kmap, long page, ISymbol buffer, SemanticModel model, KnownSymbols symbols, CancellationToken cancellationToken)
    {
        if (kmap.Parent is not AssignmentExpressionSyntax { Left: IdentifierNameSyntax target } assignment || assignment.Right != kmap ||
            model.GetSymbolInfo(target, cancellationToken).Symbol is not ILocalSymbol local)
        {
            return null;
        }

        // The kmap may sit in a try of its own: the use is in the first enclosing block where the unmap follows.
        foreach (StatementSyntax start in kmap.Ancestors().OfType<StatementSyntax>().Where(s => s.Parent is BlockSyntax b && FixSyntax.Body(b) == FixSyntax.Body(kmap)))
        {
            if (UseFrom(start, (BlockSyntax)start.Parent!, local, page, buffer, model, symbols, cancellationToken) is { } use)
            {
                // The access begins before the start statement: not where the code handles the kmap's out-of-range failure.
                return FixSyntax.CatchesOutOfRange(model, kmap, start, start.Parent!, cancellationToken) ? null : use;
            }
        }

        return null;
    }

    private static List<StatementSyntax>? UseFrom(StatementSyntax start, BlockSyntax block, ILocalSymbol local, long page, ISymbol buffer, SemanticModel model, KnownSymbols symbols, CancellationToken cancellationToken)
    {
        var use = new List<StatementSyntax>();
        for (int i = block.Statements.IndexOf(start); i < block.Statements.Count; i++)
        {
            StatementSyntax statement = block.Statements[i];
            use.Add(statement);
            if (statement is ExpressionStatementSyntax { Expression: InvocationExpressionSyntax unmap } &&
                (FixSyntax.Is(model, unmap, symbols.Kunmap, cancellationToken) || FixSyntax.Is(model, unmap, symbols.KunmapAtomic, cancellationToken)) &&
                SymbolEqualityComparer.Default.Equals(FixSyntax.ReceiverSymbol(model, FixSyntax.Receiver(unmap), cancellationToken), buffer) &&
                unmap.ArgumentList.Arguments.Count == 2 &&
                KmapOutsideBegunRangeFixer.Constant(model, unmap.ArgumentList.Arguments[0].Expression, cancellationToken) == page &&
                FixSyntax.References(unmap.ArgumentList.Arguments[1], local, model, cancellationToken).Any())
            {
                // The mapping may not be kept: copied, returned, or handed whole to anything but the unmap.
                bool escapes = use.SelectMany(s => FixSyntax.References(s, local, model, cancellationToken)).Any(id =>
                    id.Parent is AssignmentExpressionSyntax { Right: var right } && right == id ||
                    id.Ancestors().Any(a => a is ReturnStatementSyntax or AnonymousFunctionExpressionSyntax or LocalFunctionStatementSyntax) ||
                    id.Parent is ArgumentSyntax { Parent.Parent: InvocationExpressionSyntax taker } && taker != unmap);
                return escapes ? null : use;
            }

            if (i > block.Statements.IndexOf(start) && FixSyntax.References(statement, local, model, cancellationToken).Any(FixSyntax.IsWrite))
            {
                return null;
            }
        }

        return null;
    }

    /// <summary>
    /// The direction of a CpuAccess scope on any buffer under which the same helper is called (for a helper), else of
    /// the nearest access begun on <paramref name="buffer"/> before the call, when it is a constant.
    /// </summary>
    private static ExpressionSyntax? Direction(SyntaxNode body, InvocationExpressionSyntax call, ISymbol buffer, SemanticModel model, KnownSymbols symbols, CancellationToken cancellationToken)
    {
        bool IsBegin(InvocationExpressionSyntax c) =>
            c.ArgumentList.Arguments.Count == 3 &&
            (FixSyntax.Is(model, c, symbols.BeginCpuAccess, cancellationToken) || FixSyntax.Is(model, c, symbols.CpuAccess, cancellationToken)) &&
            model.GetConstantValue(c.ArgumentList.Arguments[2].Expression, cancellationToken).HasValue;

        if (FixSyntax.Method(model, call, cancellationToken) is { } helper && !KnownSymbols.IsSame(helper, symbols.Kmap) && !KnownSymbols.IsSame(helper, symbols.KmapAtomic))
        {
            ExpressionSyntax? underScope = call.SyntaxTree.GetRoot(cancellationToken).DescendantNodes().OfType<UsingStatementSyntax>()
                .Where(u => u.Expression is InvocationExpressionSyntax scope && IsBegin(scope) &&
                    u.Statement.DescendantNodesAndSelf().OfType<InvocationExpressionSyntax>().Any(c =>
                        c != call && SymbolEqualityComparer.Default.Equals(FixSyntax.Method(model, c, cancellationToken)?.OriginalDefinition, helper.OriginalDefinition)))
                .Select(u => ((InvocationExpressionSyntax)u.Expression!).ArgumentList.Arguments[2].Expression)
                .FirstOrDefault();
            if (underScope is not null)
            {
                return underScope.WithoutTrivia();
            }
        }

        return body.DescendantNodes().OfType<InvocationExpressionSyntax>()
            .Where(c => c.SpanStart < call.SpanStart && IsBegin(c) &&
                SymbolEqualityComparer.Default.Equals(FixSyntax.ReceiverSymbol(model, FixSyntax.Receiver(c), cancellationToken), buffer))
            .Select(c => c.ArgumentList.Arguments[2].Expression)
            .LastOrDefault()?.WithoutTrivia();
    }

    /// <summary>
    /// Wraps the statements in the scope. A single declaration whose locals are used after it is split: the locals are
    /// declared before the scope and assigned in it. False when the statements declare locals used after them otherwise.
    /// </summary>
    private static bool Wrap(DocumentEditor editor, BlockSyntax block, List<StatementSyntax> use, ExpressionSyntax scopeCall, SemanticModel model, CancellationToken cancellationToken)
    {
        int first = block.Statements.IndexOf(use[0]);
        IEnumerable<StatementSyntax> after = block.Statements.Skip(first + use.Count);
        if (FixSyntax.DeclaresLocalsUsedIn(use, after, model, cancellationToken))
        {
            if (use.Count != 1 || use[0] is not LocalDeclarationStatementSyntax { Declaration.Variables.Count: 1, UsingKeyword.RawKind: 0, AwaitKeyword.RawKind: 0 } local ||
                local.Modifiers.Count != 0 || local.Declaration.Variables[0].Initializer is not { } initializer ||
                model.GetDeclaredSymbol(local.Declaration.Variables[0], cancellationToken) is not ILocalSymbol { Type: { IsAnonymousType: false } type } ||
                type is IErrorTypeSymbol)
            {
                return false;
            }

            VariableDeclaratorSyntax variable = local.Declaration.Variables[0];
            StatementSyntax declaration = SyntaxFactory.LocalDeclarationStatement(SyntaxFactory.VariableDeclaration(
                    ((TypeSyntax)editor.Generator.TypeExpression(type)).WithAdditionalAnnotations(Simplifier.Annotation),
                    SyntaxFactory.SingletonSeparatedList(SyntaxFactory.VariableDeclarator(variable.Identifier.WithoutTrivia()))))
                .WithLeadingTrivia(local.GetLeadingTrivia())
                .WithAdditionalAnnotations(Formatter.Annotation);
            StatementSyntax assignment = SyntaxFactory.ExpressionStatement(
                    SyntaxFactory.AssignmentExpression(SyntaxKind.SimpleAssignmentExpression, SyntaxFactory.IdentifierName(variable.Identifier.WithoutTrivia()), initializer.Value.WithoutTrivia()))
                .WithTrailingTrivia(local.GetTrailingTrivia());
            StatementSyntax split = SyntaxFactory.UsingStatement(declaration: null, expression: scopeCall, statement: assignment)
                .WithAdditionalAnnotations(Formatter.Annotation);
            editor.ReplaceNode(block, (current, _) =>
            {
                var b = (BlockSyntax)current;
                return b.WithStatements(b.Statements.RemoveAt(first).InsertRange(first, new[] { declaration, split }));
            });
            return true;
        }

        editor.ReplaceNode(block, (current, _) =>
        {
            var b = (BlockSyntax)current;
            List<StatementSyntax> inner = b.Statements.Skip(first).Take(use.Count).Select(s => FixSyntax.IndentComments(s)).ToList();
            StatementSyntax scope = KmapWithoutCpuAccessFixer.Scope(scopeCall, inner.Select((s, i) => i == 0 ? s.WithoutLeadingTrivia() : s))
                .WithLeadingTrivia(inner[0].GetLeadingTrivia());
            return b.WithStatements(SyntaxFactory.List(b.Statements.Take(first).Append(scope).Concat(b.Statements.Skip(first + use.Count))));
        });
        return true;
    }
}
