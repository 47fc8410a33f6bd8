// The fix of DMA0006: widen the begun CPU access (its begin and every matching end) to the pages that are mapped.
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
using Microsoft.CodeAnalysis.Simplification;

namespace DmaBuf.CodeFixes;

/// <summary>
/// DMA0006 (reported at the kmap, the begin being the additional location): "Widen the CPU access to page N"
/// (<c>DMA0006.WidenAccess</c>) extends the begun range so that its page span covers the page, in the begin (or the
/// CpuAccess scope) and in every EndCpuAccess of that access. The pages are a constant page, the pages a loop maps
/// (the diagnostic names them: "Page p (0..3 on some iteration)") or the constant page a helper maps for the call
/// ("Page 3 (mapped by 'Touch', ...)"); the last two are offered only when the analyzers confirm that the widened
/// access removes the diagnostic and adds none. The range is a constant one, or one whose value the analysis knows
/// (the diagnostic names its bytes: locals, a deconstructed tuple), widened with expressions over the code's own
/// arguments (<c>(start, length)</c> to page 0 becomes <c>(0, start + length)</c>) when those have no effects, and
/// again only when the analyzers confirm it. Only where the begin is the one CPU access on that buffer in the
/// method and every end on it names the same arguments, and not for a kmap in a try that catches the
/// ArgumentOutOfRangeException of a page outside the buffer (the code expects it may fail; the begin would throw).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(KmapOutsideBegunRangeFixer))]
public sealed class KmapOutsideBegunRangeFixer : DmaBufFixer
{
    /// <summary>The equivalence key of "Widen the CPU access to page N".</summary>
    public const string WidenAccessKey = "DMA0006.WidenAccess";

    // "Page p (0..3 on some iteration) of 'buf'": the pages a loop maps.
    private static readonly Regex LoopPages = new(@"^Page [^(]+ \((\d+)\.\.(\d+) on some iteration\)", RegexOptions.CultureInvariant);

    // "Page 3 (mapped by 'Touch', which maps it at line 13) of 'buf'": the page a helper maps for the call.
    private static readonly Regex HelperPage = new(@"^Page (\d+) \(mapped by '[^']+'[^)]*\) of '([^']+)'", RegexOptions.CultureInvariant);

    // "outside the CPU access (bytes 4096..12287, FromDevice, ...)": the begun range as the analysis knows it.
    private static readonly Regex BegunBytes = new(@"outside the CPU access \(bytes (\d+)\.\.(\d+),", RegexOptions.CultureInvariant);

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(RuleIdentifiers.KmapOutsideBegunRange);

    internal override string FixAllTitle(string equivalenceKey) => "Widen every CPU access to the pages mapped";

    internal override async Task<IReadOnlyList<FixPlan>> PlanAsync(FixInput input, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        var plans = new List<FixPlan>();
        SemanticModel model = input.Model;
        KnownSymbols symbols = input.Symbols;
        InvocationExpressionSyntax? kmap = FixSyntax.InvocationAt(input.Primary);
        InvocationExpressionSyntax? begin = input.Related.Length == 1 ? FixSyntax.InvocationAt(input.Related[0]) : null;
        if (kmap is null || begin is null || begin.ArgumentList.Arguments.Count != 3 || FixSyntax.Body(begin) is not { } body)
        {
            return plans;
        }

        // The pages mapped: a constant page, the pages a loop maps (the diagnostic names them), or the constant page a
        // helper maps for the call.
        string message = diagnostic.GetMessage(CultureInfo.InvariantCulture);
        long first;
        long last;
        bool checkedByAnalysis = false;
        if (FixSyntax.Is(model, kmap, symbols.Kmap, cancellationToken) || FixSyntax.Is(model, kmap, symbols.KmapAtomic, cancellationToken))
        {
            if (kmap.ArgumentList.Arguments.Count != 1 || !FixSyntax.SameReceiver(model, kmap, begin, cancellationToken) ||
                FixSyntax.CatchesOutOfRange(model, kmap, begin, body, cancellationToken))
            {
                return plans;
            }

            if (Constant(model, kmap.ArgumentList.Arguments[0].Expression, cancellationToken) is long page)
            {
                (first, last) = (page, page);
            }
            else if (LoopPages.Match(message) is { Success: true } loop)
            {
                (first, last) = (long.Parse(loop.Groups[1].Value, CultureInfo.InvariantCulture), long.Parse(loop.Groups[2].Value, CultureInfo.InvariantCulture));
                checkedByAnalysis = true;
            }
            else
            {
                return plans;
            }
        }
        else if (HelperPage.Match(message) is { Success: true } helper && FixSyntax.Receiver(begin) is { } beginReceiver &&
            helper.Groups[2].Value == beginReceiver.ToString() &&
            kmap.ArgumentList.Arguments.Any(a => FixSyntax.ReceiverSymbol(model, a.Expression, cancellationToken) is { } s &&
                SymbolEqualityComparer.Default.Equals(s, FixSyntax.ReceiverSymbol(model, beginReceiver, cancellationToken))))
        {
            long page = long.Parse(helper.Groups[1].Value, CultureInfo.InvariantCulture);
            (first, last) = (page, page);
            checkedByAnalysis = true;
        }
        else
        {
            return plans;
        }

        bool scope = FixSyntax.Is(model, begin, symbols.CpuAccess, cancellationToken);
        if (!scope && !FixSyntax.Is(model, begin, symbols.BeginCpuAccess, cancellationToken))
        {
            return plans;
        }

        ExpressionSyntax startArgument = begin.ArgumentList.Arguments[0].Expression;
        ExpressionSyntax lengthArgument = begin.ArgumentList.Arguments[1].Expression;
        long start;
        long length;
        long? constantStart = Constant(model, startArgument, cancellationToken);
        long? constantLength = Constant(model, lengthArgument, cancellationToken);
        bool constantRange = constantStart.HasValue && constantLength.HasValue;
        if (constantRange)
        {
            (start, length) = (constantStart!.Value, constantLength!.Value);
        }
        else if (BegunBytes.Match(message) is { Success: true } bytes)
        {
            // A range the analysis knows the value of (locals, a deconstructed tuple): widened with expressions over
            // the code's own arguments, which are evaluated again in the new arguments.
            start = long.Parse(bytes.Groups[1].Value, CultureInfo.InvariantCulture);
            length = long.Parse(bytes.Groups[2].Value, CultureInfo.InvariantCulture) - start + 1;
            checkedByAnalysis = true;
        }
        else
        {
            return plans;
        }

        if (first < 0 || last < first || start < 0 || length <= 0)
        {
            return plans;
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
                return plans;
            }

            if (FixSyntax.Is(model, call, symbols.EndCpuAccess, cancellationToken))
            {
                if (scope || !FixSyntax.SameArguments(call, begin))
                {
                    return plans;
                }

                ends.Add(call);
            }
        }

        const long pageSize = 4096;
        long newStart = System.Math.Min(start, first * pageSize);
        long newEnd = System.Math.Max(start + length, (last + 1) * pageSize);
        ExpressionSyntax startExpression = newStart == start ? startArgument : Bytes(newStart);
        ExpressionSyntax lengthExpression;
        if (constantRange || (newStart != start && newEnd != start + length) || (newStart == start && constantStart.HasValue))
        {
            lengthExpression = Bytes(newEnd - newStart);
        }
        else if (!FixSyntax.IsReusable(startArgument, model, ends.Prepend(begin), cancellationToken) ||
            !FixSyntax.IsReusable(lengthArgument, model, ends.Prepend(begin), cancellationToken))
        {
            return plans;
        }
        else if (newStart == start)
        {
            // The end moves up: the new end, less the code's start.
            lengthExpression = Subtract(Bytes(newEnd), startArgument);
        }
        else
        {
            // The start moves down, the end stays where the code's start and length put it.
            ExpressionSyntax end = SyntaxFactory.BinaryExpression(SyntaxKind.AddExpression, Operand(startArgument, left: true), Operand(lengthArgument));
            lengthExpression = newStart == 0 ? end : Subtract(end, Bytes(newStart));
        }

        Document document = input.Document;
        string pages = first == last
            ? "page " + first.ToString(CultureInfo.InvariantCulture)
            : $"pages {first.ToString(CultureInfo.InvariantCulture)}..{last.ToString(CultureInfo.InvariantCulture)}";
        string title = $"Widen the CPU access to {pages}";
        DocumentEditor editor = await DocumentEditor.CreateAsync(document, cancellationToken).ConfigureAwait(false);
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

        Document widened = editor.GetChangedDocument();
        if (!checkedByAnalysis)
        {
            plans.Add(new FixPlan(title, WidenAccessKey, _ => Task.FromResult(widened)));
        }
        else if (await FixCheck.PlanIfFixesAsync(document, widened, diagnostic, title, WidenAccessKey, cancellationToken).ConfigureAwait(false) is { } plan)
        {
            // The pages come from the analysis of a loop or a helper: the analyzers confirm the widened access covers them.
            plans.Add(plan);
        }

        return plans;
    }

    private static ExpressionSyntax Subtract(ExpressionSyntax left, ExpressionSyntax right) =>
        SyntaxFactory.BinaryExpression(SyntaxKind.SubtractExpression, Operand(left, left: true), Operand(right));

    /// <summary>
    /// An operand of a new <c>+</c> or <c>-</c>: in parentheses unless it is a name, a literal or a product (or, as
    /// the left operand, a sum or difference, which the operator then continues).
    /// </summary>
    private static ExpressionSyntax Operand(ExpressionSyntax expression, bool left = false)
    {
        expression = expression.WithoutTrivia();
        return expression is IdentifierNameSyntax or LiteralExpressionSyntax or MemberAccessExpressionSyntax or ParenthesizedExpressionSyntax or InvocationExpressionSyntax ||
            expression.IsKind(SyntaxKind.MultiplyExpression) ||
            (left && (expression.IsKind(SyntaxKind.AddExpression) || expression.IsKind(SyntaxKind.SubtractExpression)))
            ? expression
            : SyntaxFactory.ParenthesizedExpression(expression);
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
