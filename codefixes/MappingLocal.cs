// A mapping held in a local and every use of that local, for the fixes that move or add an unmap.
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using DmaBuf.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace DmaBuf.CodeFixes;

/// <summary>
/// A mapping held in a local declared by <c>var page = buf.Kmap(n);</c> (or <c>KmapAtomic</c>, <c>Vmap()</c>, or a
/// <c>using</c> declaration), directly in a block, and every use of that local: reads through it (<c>page.Span</c>),
/// unmaps (<c>Kunmap(n, page)</c>, <c>Vunmap(map)</c>, <c>Dispose()</c>) and anything else, which the fixes treat as an escape.
/// </summary>
internal sealed class MappingLocal
{
    private MappingLocal(InvocationExpressionSyntax call, LocalDeclarationStatementSyntax statement, BlockSyntax block, ILocalSymbol local, bool atomic, SyntaxNode body, bool vmap = false)
    {
        IsVmap = vmap;
        Call = call;
        Statement = statement;
        Block = block;
        Local = local;
        Atomic = atomic;
        Body = body;
    }

    public InvocationExpressionSyntax Call { get; }

    public LocalDeclarationStatementSyntax Statement { get; }

    public BlockSyntax Block { get; }

    public ILocalSymbol Local { get; }

    public bool Atomic { get; }

    /// <summary>Whether the mapping is a whole-buffer <c>Vmap()</c> (given back with <c>Vunmap(map)</c>), not a page's kmap.</summary>
    public bool IsVmap { get; }

    public SyntaxNode Body { get; }

    public bool IsUsing => Statement.UsingKeyword.IsKind(SyntaxKind.UsingKeyword);

    public ExpressionSyntax Receiver => FixSyntax.Receiver(Call)!;

    public ExpressionSyntax PageArgument => Call.ArgumentList.Arguments[0].Expression;

    /// <summary>Every reference to the local after its declaration.</summary>
    public List<IdentifierNameSyntax> References { get; } = new();

    /// <summary>The runtime unmap calls (Kunmap/KunmapAtomic) whose mapping argument is the local.</summary>
    public List<InvocationExpressionSyntax> Unmaps { get; } = new();

    /// <summary>Whether the local is disposed explicitly (<c>page.Dispose()</c>).</summary>
    public bool Disposed { get; private set; }

    /// <summary>Whether the local is used any other way than reading through it or unmapping it (copied, passed on, written).</summary>
    public bool Escapes { get; private set; }

    /// <summary>The mapping local declared by the kmap at <paramref name="node"/> (with <paramref name="allowVmap"/>, also by a <c>Vmap()</c>).</summary>
    public static MappingLocal? From(SyntaxNode? node, SemanticModel model, KnownSymbols symbols, CancellationToken cancellationToken, bool allowVmap = false)
    {
        InvocationExpressionSyntax? call = FixSyntax.InvocationAt(node);
        if (call is null || FixSyntax.Receiver(call) is null || call.ArgumentList.Arguments.Count > 1)
        {
            return null;
        }

        bool atomic = false;
        bool vmap = call.ArgumentList.Arguments.Count == 0;
        if (vmap)
        {
            if (!allowVmap || !FixSyntax.Is(model, call, symbols.Vmap, cancellationToken))
            {
                return null;
            }
        }
        else if (FixSyntax.Is(model, call, symbols.KmapAtomic, cancellationToken))
        {
            atomic = true;
        }
        else if (FixSyntax.Is(model, call, symbols.Kmap, cancellationToken))
        {
            atomic = false;
        }
        else
        {
            return null;
        }

        if (call.Parent is not EqualsValueClauseSyntax { Parent: VariableDeclaratorSyntax { Parent: VariableDeclarationSyntax { Variables.Count: 1, Parent: LocalDeclarationStatementSyntax { Parent: BlockSyntax block } statement } } declarator } ||
            !statement.AwaitKeyword.IsKind(SyntaxKind.None) || statement.IsConst ||
            model.GetDeclaredSymbol(declarator, cancellationToken) is not ILocalSymbol local || local.IsRef)
        {
            return null;
        }

        SyntaxNode? body = FixSyntax.Body(statement);
        if (body is null)
        {
            return null;
        }

        var mapping = new MappingLocal(call, statement, block, local, atomic, body, vmap);
        foreach (IdentifierNameSyntax id in FixSyntax.References(body, local, model, cancellationToken))
        {
            mapping.References.Add(id);
            mapping.Classify(id, model, symbols, cancellationToken);
        }

        return mapping;
    }

    private void Classify(IdentifierNameSyntax id, SemanticModel model, KnownSymbols symbols, CancellationToken cancellationToken)
    {
        if (FixSyntax.IsWrite(id))
        {
            Escapes = true;
            return;
        }

        if (id.Parent is MemberAccessExpressionSyntax access && access.Expression == id)
        {
            if (access.Name.Identifier.ValueText == "Dispose" && access.Parent is InvocationExpressionSyntax dispose &&
                FixSyntax.Is(model, dispose, IsVmap ? symbols.DmaBufVmapDispose : symbols.DmaBufPageDispose, cancellationToken))
            {
                Disposed = true;
            }

            return;
        }

        // Formatting the page into a string ($"{page}") reads it and keeps nothing.
        if (id.Parent is InterpolationSyntax)
        {
            return;
        }

        if (id.Parent is ArgumentSyntax { RefKindKeyword.RawKind: (int)SyntaxKind.None } argument &&
            argument.Parent is ArgumentListSyntax { Parent: InvocationExpressionSyntax unmap } list &&
            (IsVmap
                ? list.Arguments.IndexOf(argument) == 0 && FixSyntax.Is(model, unmap, symbols.Vunmap, cancellationToken)
                : list.Arguments.IndexOf(argument) == 1 &&
                  (FixSyntax.Is(model, unmap, symbols.Kunmap, cancellationToken) || FixSyntax.Is(model, unmap, symbols.KunmapAtomic, cancellationToken))))
        {
            Unmaps.Add(unmap);
            return;
        }

        Escapes = true;
    }

    /// <summary>The statement of <see cref="Block"/> that holds the last reference, or the declaration when there is none.</summary>
    public StatementSyntax LastUseStatement()
    {
        StatementSyntax last = Statement;
        foreach (IdentifierNameSyntax id in References)
        {
            StatementSyntax? holder = FixSyntax.StatementIn(id, Block);
            if (holder is null)
            {
                // A use outside the declaring block (a lambda elsewhere?) cannot happen for a block-scoped local.
                continue;
            }

            if (holder.SpanStart > last.SpanStart)
            {
                last = holder;
            }
        }

        return last;
    }

    /// <summary>The page expression to unmap with: the mapping's own when it can be evaluated again there, else <c>page.PageNumber</c>.</summary>
    public ExpressionSyntax PageExpressionFor(SemanticModel model, IEnumerable<SyntaxNode> between, CancellationToken cancellationToken) =>
        FixSyntax.IsReusable(PageArgument, model, between, cancellationToken)
            ? PageArgument.WithoutTrivia()
            : SyntaxFactory.MemberAccessExpression(SyntaxKind.SimpleMemberAccessExpression, SyntaxFactory.IdentifierName(Local.Name), SyntaxFactory.IdentifierName("PageNumber"));

    /// <summary>The statements of <see cref="Block"/> from the one after the declaration through <paramref name="last"/>.</summary>
    public IEnumerable<StatementSyntax> StatementsThrough(StatementSyntax last) =>
        Block.Statements.Where(s => s.SpanStart > Statement.SpanStart && s.SpanStart <= last.SpanStart);
}
