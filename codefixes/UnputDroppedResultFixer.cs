// DMA0010 for a reference that is never stored: "Put the reference to 'Import(fd)' after its use"
// (DMA0010.PutAfterUse) keeps the result of the call that took it in a local for the one property read the code
// makes of it, and puts it in a finally block around the statement that reads it.
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
using Microsoft.CodeAnalysis.Simplification;

namespace DmaBuf.CodeFixes;

/// <summary>
/// DMA0010 (reported at the way out, the call that took the reference being the additional location) for the
/// result of <c>DmaBuffer.Get</c>, <c>DmaBuffer.Export</c> or a method of the compilation that hands its caller a
/// reference, read through one property and dropped (<c>return Import(fd).PageCount;</c>): "Put the reference to
/// 'Import(fd)' after its use" (<c>DMA0010.PutAfterUse</c>) stores the result in a local just before the statement
/// and wraps that statement in <c>try { ... } finally { buf.Put(); }</c>. A return, an expression statement or the
/// initializer of a local (the local is declared before the try block and assigned in it), also as the expression
/// body of a method, local function, accessor or lambda. The call runs when it ran: offered only when nothing in the
/// statement that may have effects is evaluated before it and it is not evaluated conditionally (<c>?:</c>,
/// <c>&amp;&amp;</c>, <c>??</c>, <c>?.</c>, an argument of a <c>[Conditional]</c> method, a hole of a string handler),
/// and when the analyzers confirm the whole. A result that is not read at
/// all (<c>Import(fd);</c>) or used in any other way is left alone.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UnputDroppedResultFixer))]
public sealed class UnputDroppedResultFixer : DmaBufFixer
{
    /// <summary>The equivalence key of "Put the reference to 'Import(fd)' after its use".</summary>
    public const string PutAfterUseKey = "DMA0010.PutAfterUse";

    /// <inheritdoc />
    private protected override bool FixesWholeSolution => false;

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(RuleIdentifiers.UnputBufferReference);

    internal override string FixAllTitle(string equivalenceKey) => "Put every dropped reference after its use";

    internal override async Task<IReadOnlyList<FixPlan>> PlanAsync(FixInput input, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        var plans = new List<FixPlan>();
        SemanticModel model = input.Model;
        InvocationExpressionSyntax? call = input.Related.Length == 1 ? input.Related[0] as InvocationExpressionSyntax : null;
        if (call is null || !FixSyntax.TakesReference(input, call, cancellationToken) ||
            call.Parent is not MemberAccessExpressionSyntax { RawKind: (int)SyntaxKind.SimpleMemberAccessExpression } read || read.Expression != call ||
            model.GetSymbolInfo(read, cancellationToken).Symbol is not IPropertySymbol { IsIndexer: false } ||
            Holder(read, model, cancellationToken) is not { } holder || EvaluatedBefore(holder, call))
        {
            return plans;
        }

        string name = FixSyntax.UniqueName(model, call, "buf");
        Document document = input.Document;
        DocumentEditor editor = await DocumentEditor.CreateAsync(document, cancellationToken).ConfigureAwait(false);
        if (!Rewrite(editor, holder, call, name, model, cancellationToken))
        {
            return plans;
        }

        string title = $"Put the reference to '{call.WithoutTrivia()}' after its use";
        if (await FixCheck.PlanIfFixesAsync(document, editor.GetChangedDocument(), diagnostic, title, PutAfterUseKey, cancellationToken).ConfigureAwait(false) is { } plan)
        {
            plans.Add(plan);
        }

        return plans;
    }

    /// <summary>
    /// The statement or expression body that evaluates <paramref name="read"/>, when every node between them evaluates
    /// its operands unconditionally and in the function itself; null otherwise.
    /// </summary>
    private static SyntaxNode? Holder(ExpressionSyntax read, SemanticModel model, CancellationToken cancellationToken)
    {
        SyntaxNode node = read;
        while (true)
        {
            SyntaxNode? parent = node.Parent;
            switch (parent)
            {
                case ReturnStatementSyntax or ExpressionStatementSyntax:
                    return parent;
                case EqualsValueClauseSyntax { Parent: VariableDeclaratorSyntax { Parent: VariableDeclarationSyntax { Variables.Count: 1, Parent: LocalDeclarationStatementSyntax declaration } } }
                    when declaration.UsingKeyword.IsKind(SyntaxKind.None) && !declaration.IsConst:
                    return declaration;
                case ArrowExpressionClauseSyntax arrow:
                    return arrow;
                case LambdaExpressionSyntax lambda when lambda.ExpressionBody == node && lambda.AsyncKeyword.IsKind(SyntaxKind.None):
                    return lambda;
                case BinaryExpressionSyntax binary when binary.IsKind(SyntaxKind.LogicalAndExpression) || binary.IsKind(SyntaxKind.LogicalOrExpression) || binary.IsKind(SyntaxKind.CoalesceExpression):
                    if (binary.Right == node)
                    {
                        return null;
                    }

                    break;
                case AssignmentExpressionSyntax assignment:
                    if (assignment.Right != node || assignment.IsKind(SyntaxKind.CoalesceAssignmentExpression))
                    {
                        return null;
                    }

                    break;
                case InvocationExpressionSyntax invocation:
                    // A [Conditional] method's call, arguments and all, is left out of builds without its symbol.
                    if (FixSyntax.Method(model, invocation, cancellationToken) is not { } method ||
                        method.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == "System.Diagnostics.ConditionalAttribute"))
                    {
                        return null;
                    }

                    break;
                case InterpolatedStringExpressionSyntax interpolated:
                    // A string handler other than string's own may skip its holes (Debug.Assert's message).
                    if (model.GetTypeInfo(interpolated, cancellationToken).ConvertedType?.SpecialType != SpecialType.System_String)
                    {
                        return null;
                    }

                    break;
                case ParenthesizedExpressionSyntax or CastExpressionSyntax or CheckedExpressionSyntax or BinaryExpressionSyntax or
                    ArgumentSyntax { RefKindKeyword.RawKind: (int)SyntaxKind.None } or ArgumentListSyntax or BracketedArgumentListSyntax or
                    ElementAccessExpressionSyntax or BaseObjectCreationExpressionSyntax or InterpolationSyntax or
                    MemberAccessExpressionSyntax { RawKind: (int)SyntaxKind.SimpleMemberAccessExpression }:
                    break;
                case PrefixUnaryExpressionSyntax prefix when !prefix.IsKind(SyntaxKind.PreIncrementExpression) && !prefix.IsKind(SyntaxKind.PreDecrementExpression):
                    break;
                default:
                    // Conditional evaluation (?:, ?., switch expressions, patterns), a lambda, a query, an await, a
                    // write: storing the call's result first would run it at another time, or not at all.
                    return null;
            }

            node = parent!;
        }
    }

    /// <summary>Whether something in <paramref name="holder"/> that may have effects is evaluated before <paramref name="call"/>.</summary>
    private static bool EvaluatedBefore(SyntaxNode holder, InvocationExpressionSyntax call) =>
        holder.DescendantNodes().Any(n => n.Span.End <= call.SpanStart && FixSyntax.HasEffects(n));

    /// <summary>
    /// Rewrites <paramref name="holder"/> in <paramref name="editor"/>: the call's result stored in
    /// <paramref name="name"/>, the use in a try block whose finally block puts it. False for a shape it does not take.
    /// </summary>
    private static bool Rewrite(DocumentEditor editor, SyntaxNode holder, InvocationExpressionSyntax call, string name, SemanticModel model, CancellationToken cancellationToken)
    {
        SyntaxGenerator g = editor.Generator;
        IdentifierNameSyntax local = SyntaxFactory.IdentifierName(name).WithTriviaFrom(call);
        var store = (StatementSyntax)g.LocalDeclarationStatement(name, call.WithoutTrivia());
        var put = (StatementSyntax)g.ExpressionStatement(g.InvocationExpression(g.MemberAccessExpression(g.IdentifierName(name), "Put")));

        switch (holder)
        {
            case LocalDeclarationStatementSyntax declaration:
            {
                VariableDeclaratorSyntax declarator = declaration.Declaration.Variables[0];
                if (model.GetDeclaredSymbol(declarator, cancellationToken) is not ILocalSymbol { IsRef: false, Type: { } type } ||
                    type is IErrorTypeSymbol || type.IsAnonymousType)
                {
                    return false;
                }

                // The local keeps its scope: declared where it was, assigned in the try block.
                TypeSyntax declaredType = declaration.Declaration.Type.IsVar
                    ? ((TypeSyntax)g.TypeExpression(type)).WithAdditionalAnnotations(Simplifier.Annotation)
                    : declaration.Declaration.Type.WithoutTrivia();
                StatementSyntax declared = SyntaxFactory.LocalDeclarationStatement(
                    declaration.Modifiers,
                    SyntaxFactory.VariableDeclaration(declaredType, SyntaxFactory.SingletonSeparatedList(SyntaxFactory.VariableDeclarator(declarator.Identifier.WithoutTrivia()))));
                StatementSyntax assign = SyntaxFactory.ExpressionStatement(SyntaxFactory.AssignmentExpression(
                        SyntaxKind.SimpleAssignmentExpression,
                        SyntaxFactory.IdentifierName(declarator.Identifier.WithoutTrivia()),
                        declarator.Initializer!.Value.ReplaceNode(call, local).WithoutLeadingTrivia()))
                    .WithTrailingTrivia(declaration.GetTrailingTrivia());
                return ReplaceStatement(editor, declaration, new[] { store, declared }, assign, put);
            }

            case StatementSyntax statement:
                return ReplaceStatement(editor, statement, new[] { store }, statement.ReplaceNode(call, local).WithoutLeadingTrivia(), put);

            case ArrowExpressionClauseSyntax { Parent: BaseMethodDeclarationSyntax or LocalFunctionStatementSyntax or AccessorDeclarationSyntax } arrow:
            {
                SyntaxNode member = arrow.Parent!;
                if (member is BaseMethodDeclarationSyntax { Modifiers: var modifiers } && modifiers.Any(SyntaxKind.AsyncKeyword) ||
                    member is LocalFunctionStatementSyntax { Modifiers: var localModifiers } && localModifiers.Any(SyntaxKind.AsyncKeyword) ||
                    model.GetDeclaredSymbol(member, cancellationToken) is not IMethodSymbol method)
                {
                    return false;
                }

                BlockSyntax body = Body(arrow.Expression.ReplaceNode(call, local), method.ReturnsVoid, store, put);
                SyntaxNode? replaced = member switch
                {
                    BaseMethodDeclarationSyntax m => m.WithExpressionBody(null).WithSemicolonToken(default).WithBody(body),
                    LocalFunctionStatementSyntax f => f.WithExpressionBody(null).WithSemicolonToken(default).WithBody(body),
                    AccessorDeclarationSyntax a => a.WithExpressionBody(null).WithSemicolonToken(default).WithBody(body),
                    _ => null,
                };
                if (replaced is null)
                {
                    return false;
                }

                editor.ReplaceNode(member, replaced.WithTriviaFrom(member).WithAdditionalAnnotations(Formatter.Annotation));
                return true;
            }

            case LambdaExpressionSyntax lambda when model.GetSymbolInfo(lambda, cancellationToken).Symbol is IMethodSymbol method:
                editor.ReplaceNode(lambda, lambda.WithExpressionBody(null)
                    .WithBlock(Body(lambda.ExpressionBody!.ReplaceNode(call, local), method.ReturnsVoid, store, put))
                    .WithAdditionalAnnotations(Formatter.Annotation));
                return true;

            default:
                return false;
        }
    }

    /// <summary>A block body for an expression body: the result stored, then the expression (returned unless the function is void) in a try block that puts it.</summary>
    private static BlockSyntax Body(ExpressionSyntax expression, bool returnsVoid, StatementSyntax store, StatementSyntax put)
    {
        expression = expression.WithoutTrivia();
        StatementSyntax use = returnsVoid ? SyntaxFactory.ExpressionStatement(expression) : SyntaxFactory.ReturnStatement(expression);
        return SyntaxFactory.Block(store, Try(use, put));
    }

    private static TryStatementSyntax Try(StatementSyntax use, StatementSyntax put) =>
        SyntaxFactory.TryStatement(SyntaxFactory.Block(use), default, SyntaxFactory.FinallyClause(SyntaxFactory.Block(put)))
            .WithAdditionalAnnotations(Formatter.Annotation);

    /// <summary>
    /// Puts <paramref name="before"/> and then the try block around <paramref name="use"/> where
    /// <paramref name="statement"/> stood: in its block or switch section, or as a new block where it was embedded (an
    /// if or loop body). Not for a labeled statement, whose label would move off the statement jumped to.
    /// </summary>
    private static bool ReplaceStatement(DocumentEditor editor, StatementSyntax statement, StatementSyntax[] before, StatementSyntax use, StatementSyntax put)
    {
        if (statement.Parent is LabeledStatementSyntax || FixSyntax.Body(statement) is null)
        {
            return false;
        }

        var statements = before.Select(s => s.WithAdditionalAnnotations(Formatter.Annotation)).ToList();
        statements[0] = statements[0].WithLeadingTrivia(statement.GetLeadingTrivia());
        statements.Add(Try(use, put));
        if (statement.Parent is BlockSyntax or SwitchSectionSyntax)
        {
            editor.InsertBefore(statement, statements.Take(statements.Count - 1));
            editor.ReplaceNode(statement, statements[statements.Count - 1]);
        }
        else if (statement is LocalDeclarationStatementSyntax)
        {
            // An embedded statement cannot declare a local.
            return false;
        }
        else
        {
            editor.ReplaceNode(statement, SyntaxFactory.Block(statements).WithAdditionalAnnotations(Formatter.Annotation));
        }

        return true;
    }
}
