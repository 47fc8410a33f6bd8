// Syntax and binding helpers the code fix providers share: the invocation at a diagnostic, statements, trivia.
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using DmaBuf.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace DmaBuf.CodeFixes;

/// <summary>Syntax and binding helpers the providers share.</summary>
internal static class FixSyntax
{
    /// <summary>The invocation a diagnostic location denotes: the node itself, an argument around it, or the one invocation spanning it.</summary>
    public static InvocationExpressionSyntax? InvocationAt(SyntaxNode? node) => node switch
    {
        InvocationExpressionSyntax invocation => invocation,
        ArgumentSyntax { Expression: InvocationExpressionSyntax invocation } => invocation,
        ExpressionStatementSyntax { Expression: InvocationExpressionSyntax invocation } => invocation,
        EqualsValueClauseSyntax { Value: InvocationExpressionSyntax invocation } => invocation,
        _ => null,
    };

    public static IMethodSymbol? Method(SemanticModel model, InvocationExpressionSyntax invocation, CancellationToken cancellationToken) =>
        model.GetSymbolInfo(invocation, cancellationToken).Symbol as IMethodSymbol;

    public static bool Is(SemanticModel model, InvocationExpressionSyntax? invocation, IMethodSymbol known, CancellationToken cancellationToken) =>
        invocation is not null && KnownSymbols.IsSame(Method(model, invocation, cancellationToken), known);

    /// <summary>
    /// Whether the call gives its caller a buffer reference to put: <c>DmaBuffer.Get</c>, <c>DmaBuffer.Export</c>, or a
    /// method of the compilation that returns a buffer and, by the analysis, hands its caller a reference
    /// (<c>get_dma_buf</c>, an import helper), which the diagnostic names as what took the reference.
    /// </summary>
    public static bool TakesReference(FixInput input, InvocationExpressionSyntax call, CancellationToken cancellationToken) =>
        Is(input.Model, call, input.Symbols.Get, cancellationToken) || Is(input.Model, call, input.Symbols.Export, cancellationToken) ||
        Method(input.Model, call, cancellationToken) is { } method &&
        method.Locations.Any(l => l.IsInSource) &&
        SymbolEqualityComparer.Default.Equals(method.ReturnType, input.Symbols.DmaBuffer);

    /// <summary>The receiver of <c>buf.Method(...)</c>, or null for any other shape.</summary>
    public static ExpressionSyntax? Receiver(InvocationExpressionSyntax invocation) =>
        invocation.Expression is MemberAccessExpressionSyntax { RawKind: (int)SyntaxKind.SimpleMemberAccessExpression } access ? access.Expression : null;

    /// <summary>The expression inside any parentheses around it.</summary>
    public static ExpressionSyntax Unparenthesized(ExpressionSyntax expression)
    {
        while (expression is ParenthesizedExpressionSyntax p)
        {
            expression = p.Expression;
        }

        return expression;
    }

    /// <summary>Whether the expression is <c>null</c> or <c>default</c> (in parentheses or not).</summary>
    public static bool IsNull(ExpressionSyntax expression) =>
        Unparenthesized(expression) is LiteralExpressionSyntax { RawKind: (int)SyntaxKind.NullLiteralExpression or (int)SyntaxKind.DefaultLiteralExpression } or DefaultExpressionSyntax;

    /// <summary>The symbol a simple receiver names (a local, parameter, field or property, possibly through <c>this.</c>).</summary>
    public static ISymbol? ReceiverSymbol(SemanticModel model, ExpressionSyntax? receiver, CancellationToken cancellationToken)
    {
        ExpressionSyntax? e = receiver is null ? null : Unparenthesized(receiver);

        if (e is MemberAccessExpressionSyntax { Expression: ThisExpressionSyntax } viaThis)
        {
            e = viaThis.Name;
        }

        if (e is not IdentifierNameSyntax)
        {
            return null;
        }

        ISymbol? symbol = model.GetSymbolInfo(e, cancellationToken).Symbol;
        return symbol is ILocalSymbol or IParameterSymbol or IFieldSymbol ? symbol : null;
    }

    /// <summary>
    /// Whether two invocations go to the same buffer: the same simple local, parameter or field, or the
    /// <c>Buffer</c> of the same such attachment (<c>att.Buffer</c>, fixed when the attachment is made).
    /// </summary>
    public static bool SameReceiver(SemanticModel model, InvocationExpressionSyntax a, InvocationExpressionSyntax b, CancellationToken cancellationToken)
    {
        ISymbol? x = ReceiverSymbol(model, Receiver(a), cancellationToken);
        if (x is not null)
        {
            return SymbolEqualityComparer.Default.Equals(x, ReceiverSymbol(model, Receiver(b), cancellationToken));
        }

        ISymbol? owner = AttachmentOf(model, Receiver(a), cancellationToken);
        return owner is not null && SymbolEqualityComparer.Default.Equals(owner, AttachmentOf(model, Receiver(b), cancellationToken));
    }

    /// <summary>For <c>att.Buffer</c> with <c>att</c> a simple local, parameter or field: <c>att</c>'s symbol.</summary>
    public static ISymbol? AttachmentOf(SemanticModel model, ExpressionSyntax? receiver, CancellationToken cancellationToken) =>
        receiver is not null && Unparenthesized(receiver) is MemberAccessExpressionSyntax access &&
        IsFixedAttachmentProperty(model.GetSymbolInfo(access, cancellationToken).Symbol, "Buffer")
            ? ReceiverSymbol(model, access.Expression, cancellationToken)
            : null;

    /// <summary>Whether the symbol is one of the named get-only properties of <c>DmaBufAttachment</c>, fixed when it is made.</summary>
    private static bool IsFixedAttachmentProperty(ISymbol? symbol, params string[] names) =>
        symbol is IPropertySymbol { SetMethod: null } property && names.Contains(property.Name) &&
        property.ContainingType.ToDisplayString() == "DmaBuf.DmaBufAttachment";

    /// <summary>Whether the arguments of two calls are the same expressions, argument by argument (trivia ignored).</summary>
    public static bool SameArguments(InvocationExpressionSyntax a, InvocationExpressionSyntax b)
    {
        SeparatedSyntaxList<ArgumentSyntax> x = a.ArgumentList.Arguments;
        SeparatedSyntaxList<ArgumentSyntax> y = b.ArgumentList.Arguments;
        if (x.Count != y.Count)
        {
            return false;
        }

        for (int i = 0; i < x.Count; i++)
        {
            if (x[i].NameColon is not null || y[i].NameColon is not null || !SyntaxFactory.AreEquivalent(x[i].Expression, y[i].Expression))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The body of the member, local function or lambda that holds <paramref name="node"/>.</summary>
    public static SyntaxNode? Body(SyntaxNode node)
    {
        foreach (SyntaxNode ancestor in node.Ancestors())
        {
            switch (ancestor)
            {
                case AnonymousFunctionExpressionSyntax lambda:
                    return lambda.Body;
                case LocalFunctionStatementSyntax local:
                    return (SyntaxNode?)local.Body ?? local.ExpressionBody;
                case BaseMethodDeclarationSyntax method:
                    return (SyntaxNode?)method.Body ?? method.ExpressionBody;
                case AccessorDeclarationSyntax accessor:
                    return (SyntaxNode?)accessor.Body ?? accessor.ExpressionBody;
            }
        }

        return null;
    }

    /// <summary>The identifiers under <paramref name="scope"/> that bind to <paramref name="symbol"/>.</summary>
    public static IEnumerable<IdentifierNameSyntax> References(SyntaxNode scope, ISymbol symbol, SemanticModel model, CancellationToken cancellationToken) =>
        scope.DescendantNodesAndSelf()
            .OfType<IdentifierNameSyntax>()
            .Where(id => id.Identifier.ValueText == symbol.Name && SymbolEqualityComparer.Default.Equals(model.GetSymbolInfo(id, cancellationToken).Symbol, symbol));

    /// <summary>Whether the identifier is written there: assigned, incremented, or passed by ref or out.</summary>
    public static bool IsWrite(IdentifierNameSyntax id)
    {
        SyntaxNode node = id;
        while (node.Parent is ParenthesizedExpressionSyntax or MemberAccessExpressionSyntax { Expression: ThisExpressionSyntax })
        {
            node = node.Parent;
        }

        return node.Parent switch
        {
            AssignmentExpressionSyntax assignment => assignment.Left == node,
            PrefixUnaryExpressionSyntax prefix => prefix.IsKind(SyntaxKind.PreIncrementExpression) || prefix.IsKind(SyntaxKind.PreDecrementExpression),
            PostfixUnaryExpressionSyntax => true,
            ArgumentSyntax argument => !argument.RefKindKeyword.IsKind(SyntaxKind.None) && !argument.RefKindKeyword.IsKind(SyntaxKind.InKeyword),
            RefExpressionSyntax => true,
            _ => false,
        };
    }

    /// <summary>Whether <paramref name="symbol"/> is written anywhere under the given nodes.</summary>
    public static bool IsWrittenIn(IEnumerable<SyntaxNode> nodes, ISymbol symbol, SemanticModel model, CancellationToken cancellationToken) =>
        nodes.Any(n => References(n, symbol, model, cancellationToken).Any(IsWrite));

    /// <summary>
    /// Whether <paramref name="expression"/> may be evaluated again elsewhere with the same value: made of constants,
    /// literals, operators, and locals, parameters or readonly fields that <paramref name="region"/> does not write, and
    /// an attachment's <c>Buffer</c> or <c>Device</c> over those.
    /// </summary>
    public static bool IsReusable(ExpressionSyntax expression, SemanticModel model, IEnumerable<SyntaxNode> region, CancellationToken cancellationToken)
    {
        if (model.GetConstantValue(expression, cancellationToken).HasValue)
        {
            return true;
        }

        switch (expression)
        {
            case ParenthesizedExpressionSyntax p:
                return IsReusable(p.Expression, model, region, cancellationToken);
            case BinaryExpressionSyntax b when !b.IsKind(SyntaxKind.CoalesceExpression) && !b.IsKind(SyntaxKind.AsExpression) && !b.IsKind(SyntaxKind.IsExpression):
                return model.GetSymbolInfo(b, cancellationToken).Symbol is not IMethodSymbol { MethodKind: MethodKind.UserDefinedOperator } &&
                    IsReusable(b.Left, model, region, cancellationToken) && IsReusable(b.Right, model, region, cancellationToken);
            case PrefixUnaryExpressionSyntax u when u.IsKind(SyntaxKind.UnaryMinusExpression) || u.IsKind(SyntaxKind.UnaryPlusExpression):
                return IsReusable(u.Operand, model, region, cancellationToken);
            case CastExpressionSyntax c:
                return IsReusable(c.Expression, model, region, cancellationToken);
            case ThisExpressionSyntax:
                return true;
            case MemberAccessExpressionSyntax { Expression: not ThisExpressionSyntax } access
                when IsFixedAttachmentProperty(model.GetSymbolInfo(access, cancellationToken).Symbol, "Buffer", "Device"):
                // An attachment's buffer and device are fixed when it is made.
                return IsReusable(access.Expression, model, region, cancellationToken);
            case IdentifierNameSyntax or MemberAccessExpressionSyntax { Expression: ThisExpressionSyntax }:
                ISymbol? symbol = model.GetSymbolInfo(expression, cancellationToken).Symbol;
                return symbol switch
                {
                    ILocalSymbol { IsRef: false } or IParameterSymbol { RefKind: RefKind.None or RefKind.In } => !IsWrittenIn(region, symbol, model, cancellationToken),
                    IFieldSymbol { IsReadOnly: true } or IFieldSymbol { IsConst: true } => true,
                    _ => false,
                };
            default:
                return false;
        }
    }

    /// <summary>
    /// The local that a call's result is stored in, by <c>var x = call;</c> or <c>x = call;</c> written as a statement
    /// of a block, with that statement and the name as written there; null for any other shape.
    /// </summary>
    public static (ILocalSymbol Local, StatementSyntax Statement, BlockSyntax Block, SyntaxToken Name)? StoredLocal(InvocationExpressionSyntax call, SemanticModel model, CancellationToken cancellationToken)
    {
        ISymbol? local;
        StatementSyntax statement;
        SyntaxToken name;
        switch (call.Parent)
        {
            case EqualsValueClauseSyntax { Parent: VariableDeclaratorSyntax { Parent.Parent: LocalDeclarationStatementSyntax declaration } declarator }
                when declaration.UsingKeyword.IsKind(SyntaxKind.None) && !declaration.IsConst:
                local = model.GetDeclaredSymbol(declarator, cancellationToken);
                statement = declaration;
                name = declarator.Identifier;
                break;
            case AssignmentExpressionSyntax { RawKind: (int)SyntaxKind.SimpleAssignmentExpression, Left: IdentifierNameSyntax target, Parent: ExpressionStatementSyntax assignment } store
                when store.Right == call:
                local = model.GetSymbolInfo(target, cancellationToken).Symbol;
                statement = assignment;
                name = target.Identifier;
                break;
            default:
                return null;
        }

        return local is ILocalSymbol { IsRef: false } stored && statement.Parent is BlockSyntax block
            ? (stored, statement, block, name.WithoutTrivia())
            : null;
    }

    /// <summary>
    /// Whether a local declared by the statements <paramref name="covered"/> (consecutive statements of one block) is
    /// used under one of <paramref name="others"/> that does not declare it itself, or the data flow cannot tell:
    /// then they cannot be moved into a block of their own apart from those others.
    /// </summary>
    public static bool DeclaresLocalsUsedIn(IReadOnlyList<StatementSyntax> covered, IEnumerable<SyntaxNode> others, SemanticModel model, CancellationToken cancellationToken)
    {
        if (covered.Count == 0)
        {
            return false;
        }

        DataFlowAnalysis? flow = model.AnalyzeDataFlow(covered[0], covered[covered.Count - 1]);
        return flow is null || !flow.Succeeded ||
            flow.VariablesDeclared.Any(local => others.Any(n =>
                !local.DeclaringSyntaxReferences.Any(d => n.Span.Contains(d.Span)) && References(n, local, model, cancellationToken).Any()));
    }

    /// <summary>A <c>return</c> or <c>throw</c> statement whose expression, if any, has no effects.</summary>
    public static bool IsExitWithoutEffects(StatementSyntax statement) => statement switch
    {
        ReturnStatementSyntax r => !HasEffects(r.Expression),
        ThrowStatementSyntax t => !HasEffects(t.Expression),
        _ => false,
    };

    /// <summary>The statement that holds <paramref name="node"/> directly in <paramref name="block"/>, if any.</summary>
    public static StatementSyntax? StatementIn(SyntaxNode node, BlockSyntax block) =>
        node.AncestorsAndSelf().OfType<StatementSyntax>().FirstOrDefault(s => s.Parent == block);

    /// <summary>Whether anything under <paramref name="node"/> may call code, allocate, wait or assign.</summary>
    public static bool HasEffects(SyntaxNode? node) =>
        node is not null && node.DescendantNodesAndSelf().Any(n =>
            n is InvocationExpressionSyntax or BaseObjectCreationExpressionSyntax or AwaitExpressionSyntax or AssignmentExpressionSyntax or
                AnonymousFunctionExpressionSyntax or PostfixUnaryExpressionSyntax ||
            n.IsKind(SyntaxKind.PreIncrementExpression) || n.IsKind(SyntaxKind.PreDecrementExpression));

    /// <summary>Whether a <c>using</c> declaration may be written as a statement of this block (C# 8 on, not a switch section).</summary>
    public static bool AllowsUsingDeclaration(StatementSyntax statement) =>
        statement.Parent is BlockSyntax &&
        statement.SyntaxTree.Options is CSharpParseOptions { LanguageVersion: >= LanguageVersion.CSharp8 };

    /// <summary>A local name based on <paramref name="baseName"/> that no symbol in scope and no declaration in the body uses.</summary>
    public static string UniqueName(SemanticModel model, SyntaxNode at, string baseName)
    {
        SyntaxNode scope = Body(at) ?? at;
        var taken = new HashSet<string>(
            scope.DescendantNodesAndSelf().Select(n => n switch
            {
                VariableDeclaratorSyntax v => v.Identifier.ValueText,
                SingleVariableDesignationSyntax d => d.Identifier.ValueText,
                LocalFunctionStatementSyntax f => f.Identifier.ValueText,
                ParameterSyntax p => p.Identifier.ValueText,
                ForEachStatementSyntax f => f.Identifier.ValueText,
                CatchDeclarationSyntax c => c.Identifier.ValueText,
                _ => string.Empty,
            }));
        for (int i = 0; ; i++)
        {
            string name = i == 0 ? baseName : baseName + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (!taken.Contains(name) && model.LookupSymbols(at.SpanStart, name: name).IsEmpty)
            {
                return name;
            }
        }
    }

    /// <summary>Whether <paramref name="node"/> sits in a loop, lambda or local function below <paramref name="top"/>.</summary>
    public static bool IsInLoopOrFunctionBelow(SyntaxNode node, SyntaxNode top)
    {
        foreach (SyntaxNode ancestor in node.Ancestors())
        {
            if (ancestor == top)
            {
                return false;
            }

            if (ancestor is ForStatementSyntax or CommonForEachStatementSyntax or WhileStatementSyntax or DoStatementSyntax or
                AnonymousFunctionExpressionSyntax or LocalFunctionStatementSyntax)
            {
                return true;
            }
        }

        return false;
    }

    public static bool IsLoop(SyntaxNode node) =>
        node is ForStatementSyntax or CommonForEachStatementSyntax or WhileStatementSyntax or DoStatementSyntax;

    /// <summary>
    /// Removes a statement from its block; comments in its leading trivia (and on its line) move to the next
    /// statement or to the block's closing brace, so that no comment is lost.
    /// </summary>
    public static void RemoveStatementKeepingComments(Microsoft.CodeAnalysis.Editing.SyntaxEditor editor, StatementSyntax statement)
    {
        SyntaxTriviaList leading = statement.GetLeadingTrivia();
        SyntaxTriviaList trailing = statement.GetTrailingTrivia();
        bool hasComments = leading.Concat(trailing).Any(IsComment);
        editor.RemoveNode(statement, SyntaxRemoveOptions.KeepNoTrivia);
        if (!hasComments || statement.Parent is not BlockSyntax block)
        {
            return;
        }

        // Keep the comment lines: leading trivia up to its last end of line, then the trailing comment on a line of its own.
        var kept = new List<SyntaxTrivia>();
        int lastEol = -1;
        for (int i = 0; i < leading.Count; i++)
        {
            if (leading[i].IsKind(SyntaxKind.EndOfLineTrivia))
            {
                lastEol = i;
            }
        }

        kept.AddRange(leading.Take(lastEol + 1));
        if (trailing.Any(IsComment))
        {
            kept.AddRange(leading.Skip(lastEol + 1));
            // The comment takes the statement's indentation, not the space that stood between them.
            kept.AddRange(trailing.SkipWhile(t => t.IsKind(SyntaxKind.WhitespaceTrivia)));
        }

        int index = block.Statements.IndexOf(statement);
        if (index + 1 < block.Statements.Count)
        {
            StatementSyntax next = block.Statements[index + 1];
            editor.ReplaceNode(next, (current, _) => current.WithLeadingTrivia(kept.Concat(current.GetLeadingTrivia())));
        }
        else
        {
            editor.ReplaceNode(block, (current, _) =>
            {
                var b = (BlockSyntax)current;
                return b.WithCloseBraceToken(b.CloseBraceToken.WithLeadingTrivia(kept.Concat(b.CloseBraceToken.LeadingTrivia)));
            });
        }
    }

    public static bool IsComment(SyntaxTrivia trivia) =>
        trivia.IsKind(SyntaxKind.SingleLineCommentTrivia) || trivia.IsKind(SyntaxKind.MultiLineCommentTrivia);

    /// <summary>
    /// Indents a statement's own comment lines by one level more, before it moves into a new block. The formatter
    /// re-indents the statement, but a comment line under a line that ends with a comment keeps its column otherwise.
    /// </summary>
    public static StatementSyntax IndentComments(StatementSyntax statement, string unit = "    ")
    {
        SyntaxTriviaList leading = statement.GetLeadingTrivia();
        if (!leading.Any(IsComment))
        {
            return statement;
        }

        var result = new List<SyntaxTrivia>();
        bool lineStart = true;
        foreach (SyntaxTrivia trivia in leading)
        {
            if (lineStart && trivia.IsKind(SyntaxKind.WhitespaceTrivia))
            {
                result.Add(SyntaxFactory.Whitespace(trivia.ToString() + unit));
            }
            else
            {
                result.Add(trivia);
            }

            lineStart = trivia.IsKind(SyntaxKind.EndOfLineTrivia);
        }

        return statement.WithLeadingTrivia(result);
    }

    /// <summary>
    /// Whether the kmap sits in a try below <paramref name="top"/>, not around <paramref name="begin"/>, that catches
    /// the ArgumentOutOfRangeException of a page outside the buffer: the code expects that kmap may fail (a selftest
    /// mapping past the end), and a begin over that page would throw that exception outside the handler instead.
    /// </summary>
    public static bool CatchesOutOfRange(SemanticModel model, SyntaxNode kmap, SyntaxNode begin, SyntaxNode top, CancellationToken cancellationToken)
    {
        INamedTypeSymbol? outOfRange = model.Compilation.GetTypeByMetadataName("System.ArgumentOutOfRangeException");
        foreach (TryStatementSyntax tryStatement in kmap.Ancestors().TakeWhile(a => a != top).OfType<TryStatementSyntax>())
        {
            if (!tryStatement.Block.Span.Contains(kmap.Span) || tryStatement.Block.Span.Contains(begin.Span))
            {
                continue;
            }

            foreach (CatchClauseSyntax clause in tryStatement.Catches)
            {
                if (clause.Declaration is null ||
                    (model.GetTypeInfo(clause.Declaration.Type, cancellationToken).Type is ITypeSymbol caught &&
                        (outOfRange is null || Catches(caught, outOfRange))))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static bool Catches(ITypeSymbol caught, INamedTypeSymbol thrown)
    {
        for (INamedTypeSymbol? type = thrown; type is not null; type = type.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(type, caught))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The one statement of a braced block of one statement, or the statement itself (the body of an if or a lock).</summary>
    public static StatementSyntax OnlyStatement(StatementSyntax statement) =>
        statement is BlockSyntax { Statements.Count: 1 } only ? only.Statements[0] : statement;

    /// <summary>Whether <paramref name="node"/> holds a comment other than those in <paramref name="kept"/>, which a rewrite keeps.</summary>
    public static bool HasCommentBesides(SyntaxNode node, IEnumerable<SyntaxTrivia> kept)
    {
        var keptSet = new HashSet<SyntaxTrivia>(kept);
        return node.DescendantTrivia().Any(t => IsComment(t) && !keptSet.Contains(t));
    }
}
