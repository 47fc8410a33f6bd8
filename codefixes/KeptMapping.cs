// Whether a method hands a mapping of a buffer on (stores a kmap or vmap in an array, a field, an out parameter,
// returns it): then the CPU access must last as long as the mapping does, and no fix may end it in this method.
using System.Linq;
using System.Threading;
using DmaBuf.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace DmaBuf.CodeFixes;

internal static class KeptMapping
{
    /// <summary>
    /// Whether some Kmap, KmapAtomic or Vmap in <paramref name="body"/> on <paramref name="buffer"/> (on any buffer when
    /// it is null) gives its mapping to anything but reads through it, null tests and its unmap: a mapping the code
    /// keeps beyond this method.
    /// </summary>
    public static bool IsKeptIn(SyntaxNode body, ISymbol? buffer, SemanticModel model, KnownSymbols symbols, CancellationToken cancellationToken)
    {
        foreach (InvocationExpressionSyntax call in body.DescendantNodes().OfType<InvocationExpressionSyntax>())
        {
            if (!(FixSyntax.Is(model, call, symbols.Kmap, cancellationToken) || FixSyntax.Is(model, call, symbols.KmapAtomic, cancellationToken) ||
                  FixSyntax.Is(model, call, symbols.Vmap, cancellationToken)) ||
                (buffer is not null && !SymbolEqualityComparer.Default.Equals(FixSyntax.ReceiverSymbol(model, FixSyntax.Receiver(call), cancellationToken), buffer)))
            {
                continue;
            }

            if (Escapes(call, body, model, symbols, cancellationToken))
            {
                return true;
            }
        }

        return false;
    }

    private static bool Escapes(InvocationExpressionSyntax call, SyntaxNode body, SemanticModel model, KnownSymbols symbols, CancellationToken cancellationToken)
    {
        // The value may pass through a conditional (c ? buf.Kmap(0) : null) or parentheses on its way to a local.
        SyntaxNode value = call;
        while (value.Parent is ParenthesizedExpressionSyntax ||
            (value.Parent is ConditionalExpressionSyntax conditional && conditional.Condition != value))
        {
            value = value.Parent;
        }

        ISymbol? local = value.Parent switch
        {
            EqualsValueClauseSyntax { Parent: VariableDeclaratorSyntax declarator } => model.GetDeclaredSymbol(declarator, cancellationToken),
            AssignmentExpressionSyntax { RawKind: (int)SyntaxKind.SimpleAssignmentExpression, Left: IdentifierNameSyntax target } assignment when assignment.Right == value =>
                model.GetSymbolInfo(target, cancellationToken).Symbol,
            _ => null,
        };
        if (local is not ILocalSymbol)
        {
            // Not stored in a local: read through at once (buf.Kmap(0).Span), or a using resource, or handed on.
            return value.Parent is not (MemberAccessExpressionSyntax or UsingStatementSyntax);
        }

        foreach (IdentifierNameSyntax id in FixSyntax.References(body, local, model, cancellationToken))
        {
            if (!IsLocalUse(id, model, symbols, cancellationToken))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A use of the mapping's local that keeps it here: a write of it, a read through it, a null test, its unmap.</summary>
    private static bool IsLocalUse(IdentifierNameSyntax id, SemanticModel model, KnownSymbols symbols, CancellationToken cancellationToken)
    {
        if (FixSyntax.IsWrite(id))
        {
            return true;
        }

        SyntaxNode use = id;
        if (use.Parent is MemberAccessExpressionSyntax { Name.Identifier.ValueText: "Value" } value && value.Expression == use)
        {
            use = value;
        }

        switch (use.Parent)
        {
            case MemberAccessExpressionSyntax access when access.Expression == use:
                // page.Span, page.Value.Span, page.HasValue, page.PageNumber, map.GetSpan(...), page.Dispose()
                return true;
            case BinaryExpressionSyntax or IsPatternExpressionSyntax or InterpolationSyntax or UsingStatementSyntax:
                return true;
            case ArgumentSyntax { Parent: ArgumentListSyntax { Parent: InvocationExpressionSyntax unmap } }:
                return FixSyntax.Is(model, unmap, symbols.Kunmap, cancellationToken) || FixSyntax.Is(model, unmap, symbols.KunmapAtomic, cancellationToken) ||
                    FixSyntax.Is(model, unmap, symbols.Vunmap, cancellationToken);
            default:
                return false;
        }
    }
}
