// The fixes of DMA0003: unmap with the matching call and page, unmap after the last use, or dispose with 'using'.
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

namespace DmaBuf.CodeFixes;

/// <summary>
/// DMA0003. For an unmap with the wrong call, page number or buffer (reported at the unmap, the mapping being the
/// additional location): "Unmap with the matching call and page" (<c>DMA0003.MatchUnmap</c>). For a mapping that is
/// not unmapped on some way out (reported at the way out): "Unmap after the last use" (<c>DMA0003.InsertUnmap</c>),
/// and "Dispose the mapping with 'using'" (<c>DMA0003.UsingDeclaration</c>).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UnmatchedKmapFixer))]
public sealed class UnmatchedKmapFixer : DmaBufFixer
{
    /// <summary>The equivalence key of the repair of a mismatched unmap.</summary>
    public const string MatchUnmapKey = "DMA0003.MatchUnmap";

    /// <summary>The equivalence key of the inserted unmap.</summary>
    public const string InsertUnmapKey = "DMA0003.InsertUnmap";

    /// <summary>The equivalence key of the <c>using</c> declaration.</summary>
    public const string UsingDeclarationKey = "DMA0003.UsingDeclaration";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(RuleIdentifiers.UnmatchedKmap);

    internal override string FixAllTitle(string equivalenceKey) => equivalenceKey switch
    {
        MatchUnmapKey => "Unmap every page with the matching call and page",
        InsertUnmapKey => "Unmap every page after its last use",
        _ => "Dispose every mapping with 'using'",
    };

    internal override Task<IReadOnlyList<FixPlan>> PlanAsync(FixInput input, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        var plans = new List<FixPlan>();
        if (input.Related.Length == 1)
        {
            InvocationExpressionSyntax? unmap = FixSyntax.InvocationAt(input.Primary);
            if (unmap is not null &&
                (FixSyntax.Is(input.Model, unmap, input.Symbols.Kunmap, cancellationToken) || FixSyntax.Is(input.Model, unmap, input.Symbols.KunmapAtomic, cancellationToken)))
            {
                PlanMatch(input, unmap, plans, cancellationToken);
            }
            else
            {
                PlanMissing(input, plans, cancellationToken);
            }
        }

        return Task.FromResult<IReadOnlyList<FixPlan>>(plans);
    }

    private static void PlanMatch(FixInput input, InvocationExpressionSyntax unmap, List<FixPlan> plans, CancellationToken cancellationToken)
    {
        SemanticModel model = input.Model;
        InvocationExpressionSyntax? map = FixSyntax.InvocationAt(input.Related[0]);
        bool mappedAtomic;
        if (FixSyntax.Is(model, map, input.Symbols.KmapAtomic, cancellationToken))
        {
            mappedAtomic = true;
        }
        else if (FixSyntax.Is(model, map, input.Symbols.Kmap, cancellationToken))
        {
            mappedAtomic = false;
        }
        else
        {
            return;
        }

        if (unmap.Expression is not MemberAccessExpressionSyntax access || unmap.ArgumentList.Arguments.Count != 2 || map!.ArgumentList.Arguments.Count != 1)
        {
            return;
        }

        bool unmapAtomic = FixSyntax.Is(model, unmap, input.Symbols.KunmapAtomic, cancellationToken);
        string call = mappedAtomic ? "KunmapAtomic" : "Kunmap";
        ExpressionSyntax mappedPage = map.ArgumentList.Arguments[0].Expression;
        ExpressionSyntax givenPage = unmap.ArgumentList.Arguments[0].Expression;
        Optional<object?> mappedValue = model.GetConstantValue(mappedPage, cancellationToken);
        Optional<object?> givenValue = model.GetConstantValue(givenPage, cancellationToken);

        ExpressionSyntax? newPage = null;
        if (!(mappedValue.HasValue && givenValue.HasValue && Equals(ToLong(mappedValue.Value), ToLong(givenValue.Value))) &&
            !SyntaxFactory.AreEquivalent(mappedPage, givenPage))
        {
            // Only a page number the rule could compare is repaired: the mapping's constant, or page.PageNumber,
            // which is right whatever the mapping's page was.
            if (mappedValue.HasValue && givenValue.HasValue)
            {
                newPage = mappedPage.WithoutTrivia();
            }
            else if (unmap.ArgumentList.Arguments[1].Expression is IdentifierNameSyntax pageLocal && mappedValue.HasValue == false && givenValue.HasValue)
            {
                newPage = SyntaxFactory.MemberAccessExpression(SyntaxKind.SimpleMemberAccessExpression, pageLocal.WithoutTrivia(), SyntaxFactory.IdentifierName("PageNumber"));
            }
        }

        bool fixCall = mappedAtomic != unmapAtomic;

        // Unmapped through another buffer: name the mapping's buffer, when it is a local, parameter or readonly field
        // that the method does not assign.
        ExpressionSyntax? newReceiver = null;
        ISymbol? mappedBuffer = FixSyntax.ReceiverSymbol(model, FixSyntax.Receiver(map), cancellationToken);
        ISymbol? givenBuffer = FixSyntax.ReceiverSymbol(model, access.Expression, cancellationToken);
        if (mappedBuffer is not null && givenBuffer is not null && !SymbolEqualityComparer.Default.Equals(mappedBuffer, givenBuffer) &&
            FixSyntax.Body(unmap) is { } body && FixSyntax.Body(map) == body &&
            FixSyntax.IsReusable(FixSyntax.Receiver(map)!, model, new[] { body }, cancellationToken))
        {
            newReceiver = FixSyntax.Receiver(map)!.WithoutTrivia();
        }

        if (!fixCall && newPage is null && newReceiver is null)
        {
            return;
        }

        string pageText = (newPage ?? givenPage).ToString();
        string title = newReceiver is null ? $"Unmap with {call}({pageText}, ...)" : $"Unmap with {newReceiver}.{call}({pageText}, ...)";
        Document document = input.Document;
        plans.Add(new FixPlan(title, MatchUnmapKey, async ct =>
        {
            DocumentEditor editor = await DocumentEditor.CreateAsync(document, ct).ConfigureAwait(false);
            InvocationExpressionSyntax updated = unmap;
            MemberAccessExpressionSyntax target = access;
            if (fixCall)
            {
                target = target.WithName(SyntaxFactory.IdentifierName(call).WithTriviaFrom(access.Name));
            }

            if (newReceiver is not null)
            {
                target = target.WithExpression(newReceiver.WithTriviaFrom(access.Expression));
            }

            updated = updated.WithExpression(target);

            if (newPage is not null)
            {
                ArgumentSyntax first = updated.ArgumentList.Arguments[0];
                updated = updated.WithArgumentList(updated.ArgumentList.WithArguments(
                    updated.ArgumentList.Arguments.Replace(first, first.WithExpression(newPage.WithTriviaFrom(first.Expression)))));
            }

            editor.ReplaceNode(unmap, updated);
            return editor.GetChangedDocument();
        }));
    }

    private static void PlanMissing(FixInput input, List<FixPlan> plans, CancellationToken cancellationToken)
    {
        SemanticModel model = input.Model;
        MappingLocal? mapping = MappingLocal.From(input.Related[0], model, input.Symbols, cancellationToken);
        if (mapping is null || mapping.IsUsing || mapping.Escapes || mapping.Disposed || mapping.Unmaps.Count > 0)
        {
            // Unmapped on some paths already, or handed on: adding an unmap or a using could unmap twice.
            return;
        }

        Document document = input.Document;
        StatementSyntax last = mapping.LastUseStatement();
        ExpressionSyntax receiver = mapping.Receiver;
        var between = mapping.StatementsThrough(last).ToList<SyntaxNode>();

        // The inserted unmap runs on the path that leaves after the last use; only offered for a diagnostic on such a
        // path, when that statement can complete (it is no jump), and when the buffer can be named again there.
        if (input.PrimarySpan.Start >= last.Span.End &&
            last is not (ReturnStatementSyntax or ThrowStatementSyntax or BreakStatementSyntax or ContinueStatementSyntax or GotoStatementSyntax or YieldStatementSyntax) &&
            FixSyntax.IsReusable(receiver, model, between, cancellationToken))
        {
            string call = mapping.Atomic ? "KunmapAtomic" : "Kunmap";
            ExpressionSyntax page = mapping.PageExpressionFor(model, between, cancellationToken);
            plans.Add(new FixPlan($"Unmap page {page} after its last use", InsertUnmapKey, async ct =>
            {
                DocumentEditor editor = await DocumentEditor.CreateAsync(document, ct).ConfigureAwait(false);
                SyntaxGenerator g = editor.Generator;
                var unmapCall = (ExpressionSyntax)g.InvocationExpression(
                    g.MemberAccessExpression(receiver.WithoutTrivia(), call),
                    page,
                    g.IdentifierName(mapping.Local.Name));
                StatementSyntax statement = SyntaxFactory.ExpressionStatement(unmapCall).WithAdditionalAnnotations(Formatter.Annotation);
                editor.InsertAfter(last, statement);
                return editor.GetChangedDocument();
            }));
        }

        // A using declaration unmaps at the end of the block, so for an atomic mapping it is only offered where nothing
        // after the last use could block or map again (holding it longer must not make a DMA0004 or DMA0005).
        bool laterEffects = mapping.Atomic && mapping.Block.Statements.Any(s => s.SpanStart > last.SpanStart && FixSyntax.HasEffects(s));
        if (FixSyntax.AllowsUsingDeclaration(mapping.Statement) && !laterEffects)
        {
            plans.Add(new FixPlan("Dispose the mapping with 'using'", UsingDeclarationKey, async ct =>
            {
                DocumentEditor editor = await DocumentEditor.CreateAsync(document, ct).ConfigureAwait(false);
                LocalDeclarationStatementSyntax declaration = mapping.Statement;
                LocalDeclarationStatementSyntax updated = declaration.WithoutLeadingTrivia()
                    .WithUsingKeyword(SyntaxFactory.Token(declaration.GetLeadingTrivia(), SyntaxKind.UsingKeyword, SyntaxFactory.TriviaList(SyntaxFactory.Space)));
                editor.ReplaceNode(declaration, updated);
                return editor.GetChangedDocument();
            }));
        }
    }

    private static long? ToLong(object? value) => value switch
    {
        int i => i,
        long l => l,
        short s => s,
        byte b => b,
        uint u => u,
        _ => null,
    };
}
