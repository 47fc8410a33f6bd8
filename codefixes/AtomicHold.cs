// Whether an atomic mapping may be held at a point of a body: the check behind every fix that adds a call that may block.
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using DmaBuf.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace DmaBuf.CodeFixes;

/// <summary>
/// A conservative, syntactic answer to "may an atomic mapping be held here?", for fixes that add a call that may
/// block (Kmap, CpuAccess). It answers yes unless every other KmapAtomic of the body is provably unmapped before the
/// point: a plain local unmapped (or disposed) between the mapping and the point, or a using whose scope the point
/// is outside of. Any atomic mapping in a loop around the point, and any call to a method of the same compilation
/// that returns DmaBufPage, count as held.
/// </summary>
internal static class AtomicHold
{
    /// <summary>Whether <paramref name="position"/> is in an exporter's atomic callback (its KmapAtomic or KunmapAtomic), where nothing may block.</summary>
    public static bool InAtomicCallback(SemanticModel model, int position, KnownSymbols symbols, CancellationToken cancellationToken) =>
        model.GetEnclosingSymbol(position, cancellationToken) is IMethodSymbol method &&
        (KnownSymbols.Overrides(method, symbols.ExporterKmapAtomic) || KnownSymbols.Overrides(method, symbols.ExporterKunmapAtomic));

    public static bool MayBeHeldAt(SyntaxNode body, int position, SemanticModel model, KnownSymbols symbols, IEnumerable<SyntaxNode> ignore, CancellationToken cancellationToken)
    {
        var ignored = new HashSet<SyntaxNode>(ignore);
        foreach (InvocationExpressionSyntax call in body.DescendantNodes().OfType<InvocationExpressionSyntax>())
        {
            if (ignored.Contains(call))
            {
                continue;
            }

            IMethodSymbol? method = FixSyntax.Method(model, call, cancellationToken);
            if (method is null)
            {
                continue;
            }

            if (!KnownSymbols.IsSame(method, symbols.KmapAtomic))
            {
                // A helper of this compilation that hands out a mapping may map atomically.
                if (method.MethodKind != MethodKind.BuiltinOperator && !method.Locations.IsEmpty && method.Locations[0].IsInSource &&
                    SymbolEqualityComparer.Default.Equals(method.ReturnType, symbols.DmaBufPage) && call.SpanStart < position)
                {
                    return true;
                }

                continue;
            }

            // A loop around both: an earlier iteration's mapping may still be held.
            if (call.Ancestors().TakeWhile(a => a != body).Any(a => FixSyntax.IsLoop(a) && a.Span.Contains(position)))
            {
                return true;
            }

            if (call.SpanStart >= position)
            {
                continue;
            }

            if (IsHeldAt(call, position, model, symbols, cancellationToken))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsHeldAt(InvocationExpressionSyntax call, int position, SemanticModel model, KnownSymbols symbols, CancellationToken cancellationToken)
    {
        // using (var page = buf.KmapAtomic(n)) statement: held inside the statement only.
        if (call.Parent is EqualsValueClauseSyntax { Parent: VariableDeclaratorSyntax { Parent: VariableDeclarationSyntax { Parent: UsingStatementSyntax usingStatement } } })
        {
            return usingStatement.Span.Contains(position);
        }

        MappingLocal? mapping = MappingLocal.From(call, model, symbols, cancellationToken);
        if (mapping is null || mapping.Escapes)
        {
            return true;
        }

        if (mapping.IsUsing)
        {
            return mapping.Block.Span.Contains(position);
        }

        // Unmapped (or disposed) between the mapping and the point, on the straight line of the mapping's block.
        foreach (IdentifierNameSyntax id in mapping.References)
        {
            if (id.SpanStart > position || id.SpanStart < call.SpanStart)
            {
                continue;
            }

            InvocationExpressionSyntax? unmap = mapping.Unmaps.FirstOrDefault(u => u.Span.Contains(id.Span));
            SyntaxNode? release = unmap ?? (id.Parent is MemberAccessExpressionSyntax { Name.Identifier.ValueText: "Dispose" } access ? access.Parent : null);
            if (release is not null && release.Parent is ExpressionStatementSyntax statement && statement.Parent == mapping.Block)
            {
                return false;
            }
        }

        return true;
    }
}
