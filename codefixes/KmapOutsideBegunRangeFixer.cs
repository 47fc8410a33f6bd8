using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using DmaBuf.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Editing;
using Microsoft.CodeAnalysis.Simplification;

namespace DmaBuf.CodeFixes;

/// <summary>
/// DMA0006 (reported at the kmap, the begin being the additional location): "Widen the CPU access to page N"
/// (<c>DMA0006.WidenAccess</c>) extends the begun range so that its page span covers the page, in the begin (or the
/// CpuAccess scope) and in every EndCpuAccess of that access. Only for constant pages and ranges, and only where the
/// begin is the one CPU access on that buffer in the method and every end on it names the same arguments.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(KmapOutsideBegunRangeFixer))]
[Shared]
public sealed class KmapOutsideBegunRangeFixer : DmaBufFixer
{
    /// <summary>The equivalence key of "Widen the CPU access to page N".</summary>
    public const string WidenAccessKey = "DMA0006.WidenAccess";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(RuleIdentifiers.KmapOutsideBegunRange);

    internal override string FixAllTitle(string equivalenceKey) => "Widen every CPU access to the pages mapped";

    internal override Task<IReadOnlyList<FixPlan>> PlanAsync(FixInput input, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        var plans = new List<FixPlan>();
        SemanticModel model = input.Model;
        KnownSymbols symbols = input.Symbols;
        InvocationExpressionSyntax? kmap = FixSyntax.InvocationAt(input.Primary);
        InvocationExpressionSyntax? begin = input.Related.Length == 1 ? FixSyntax.InvocationAt(input.Related[0]) : null;
        if (kmap is null || begin is null || kmap.ArgumentList.Arguments.Count != 1 || begin.ArgumentList.Arguments.Count != 3 ||
            !(FixSyntax.Is(model, kmap, symbols.Kmap, cancellationToken) || FixSyntax.Is(model, kmap, symbols.KmapAtomic, cancellationToken)) ||
            !FixSyntax.SameReceiver(model, kmap, begin, cancellationToken) ||
            FixSyntax.Body(begin) is not { } body)
        {
            return Done(plans);
        }

        bool scope = FixSyntax.Is(model, begin, symbols.CpuAccess, cancellationToken);
        if (!scope && !FixSyntax.Is(model, begin, symbols.BeginCpuAccess, cancellationToken))
        {
            return Done(plans);
        }

        if (Constant(model, kmap.ArgumentList.Arguments[0].Expression, cancellationToken) is not long page ||
            Constant(model, begin.ArgumentList.Arguments[0].Expression, cancellationToken) is not long start ||
            Constant(model, begin.ArgumentList.Arguments[1].Expression, cancellationToken) is not long length ||
            page < 0 || start < 0 || length <= 0)
        {
            return Done(plans);
        }

        // The begin must be the only CPU access on the buffer here, and every end must be its end, word for word.
        var ends = new List<InvocationExpressionSyntax>();
        foreach (InvocationExpressionSyntax call in body.DescendantNodes().OfType<InvocationExpressionSyntax>())
        {
            if (call == begin || !FixSyntax.SameReceiver(model, call, begin, cancellationToken))
            {
                continue;
            }

            if (FixSyntax.Is(model, call, symbols.BeginCpuAccess, cancellationToken) || FixSyntax.Is(model, call, symbols.CpuAccess, cancellationToken))
            {
                return Done(plans);
            }

            if (FixSyntax.Is(model, call, symbols.EndCpuAccess, cancellationToken))
            {
                if (scope || !FixSyntax.SameArguments(call, begin))
                {
                    return Done(plans);
                }

                ends.Add(call);
            }
        }

        const long pageSize = 4096;
        long newStart = System.Math.Min(start, page * pageSize);
        long newEnd = System.Math.Max(start + length, (page + 1) * pageSize);
        ExpressionSyntax startExpression = newStart == start ? begin.ArgumentList.Arguments[0].Expression : Bytes(newStart);
        ExpressionSyntax lengthExpression = Bytes(newEnd - newStart);
        Document document = input.Document;
        string pageText = page.ToString(CultureInfo.InvariantCulture);
        plans.Add(new FixPlan($"Widen the CPU access to page {pageText}", WidenAccessKey, async ct =>
        {
            DocumentEditor editor = await DocumentEditor.CreateAsync(document, ct).ConfigureAwait(false);
            foreach (InvocationExpressionSyntax call in ends.Prepend(begin))
            {
                SeparatedSyntaxList<ArgumentSyntax> arguments = call.ArgumentList.Arguments;
                arguments = arguments.Replace(arguments[1], arguments[1].WithExpression(lengthExpression.WithTriviaFrom(arguments[1].Expression)));
                if (newStart != start)
                {
                    arguments = arguments.Replace(arguments[0], arguments[0].WithExpression(startExpression.WithTriviaFrom(arguments[0].Expression)));
                }

                editor.ReplaceNode(call.ArgumentList, call.ArgumentList.WithArguments(arguments));
            }

            return editor.GetChangedDocument();
        }));
        return Done(plans);
    }

    /// <summary>A byte count written the way the samples write it: <c>0</c>, <c>DmaBuffer.PageSize</c>, <c>3 * DmaBuffer.PageSize</c>, or a literal.</summary>
    internal static ExpressionSyntax Bytes(long bytes)
    {
        const long pageSize = 4096;
        if (bytes == 0 || bytes % pageSize != 0)
        {
            return Number(bytes);
        }

        ExpressionSyntax size = SyntaxFactory.ParseExpression("global::DmaBuf.DmaBuffer.PageSize").WithAdditionalAnnotations(Simplifier.Annotation);
        long pages = bytes / pageSize;
        return pages == 1
            ? size
            : SyntaxFactory.BinaryExpression(
                SyntaxKind.MultiplyExpression,
                Number(pages),
                size);
    }

    private static ExpressionSyntax Number(long value) => SyntaxFactory.LiteralExpression(
        SyntaxKind.NumericLiteralExpression,
        value is >= int.MinValue and <= int.MaxValue ? SyntaxFactory.Literal((int)value) : SyntaxFactory.Literal(value));

    internal static long? Constant(SemanticModel model, ExpressionSyntax expression, CancellationToken cancellationToken) =>
        model.GetConstantValue(expression, cancellationToken) is { HasValue: true, Value: { } value } ? value switch
        {
            int i => i,
            long l => l,
            short s => s,
            byte b => b,
            uint u => u,
            _ => null,
        } : null;
}
