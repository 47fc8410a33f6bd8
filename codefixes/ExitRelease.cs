// Inserts a release (EndCpuAccess, Put, Kunmap, UnmapAttachment) at one way out of a method: before the return or
// throw the diagnostic names, or at the end of the body it falls off. Shared by the fixes of a resource left held on
// one path; what to release and whether the release is right there is theirs to say, and FixCheck confirms it.
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Editing;
using Microsoft.CodeAnalysis.Formatting;
using Microsoft.CodeAnalysis.Simplification;

namespace DmaBuf.CodeFixes;

/// <summary>What a fix inserts at one way out, and what must stay after it there.</summary>
internal sealed class ReleaseAtExit
{
    public ReleaseAtExit(ExitRelease exit, StatementSyntax release, string title, IEnumerable<ISymbol> reads, System.Func<StatementSyntax, bool>? keepAfter = null)
    {
        Exit = exit;
        Release = release;
        Title = title;
        Reads = reads.ToList();
        KeepAfter = keepAfter;
    }

    public ExitRelease Exit { get; }

    public StatementSyntax Release { get; }

    public string Title { get; }

    /// <summary>The locals the release invalidates: a returned value that reads them is computed first.</summary>
    public IReadOnlyList<ISymbol> Reads { get; }

    public System.Func<StatementSyntax, bool>? KeepAfter { get; }

    /// <summary>What to try when the analyzers do not confirm <see cref="Release"/> (the same release under the acquire's guard).</summary>
    public ReleaseAtExit? Fallback { get; set; }
}

/// <summary>The base of the fixes that insert a release at the way out a diagnostic names, checked by the analyzers.</summary>
public abstract class ExitReleaseFixer : DmaBufFixer
{
    /// <inheritdoc />
    private protected override bool FixesWholeSolution => false;

    internal abstract ReleaseAtExit? Describe(FixInput input, CancellationToken cancellationToken);

    internal abstract string EquivalenceKey { get; }

    internal sealed override async Task<IReadOnlyList<FixPlan>> PlanAsync(FixInput input, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        var plans = new List<FixPlan>();
        for (ReleaseAtExit? release = Describe(input, cancellationToken); release is not null; release = release.Fallback)
        {
            bool temporary = release.Exit.ValueNeedsTemporary(release.Reads, input.Model, cancellationToken);
            FixPlan? plan = await release.Exit.CheckedPlanAsync(input, diagnostic, release.Title, EquivalenceKey, release.Release, temporary, release.KeepAfter, cancellationToken).ConfigureAwait(false);
            if (plan is not null)
            {
                plans.Add(plan);
                break;
            }
        }

        return plans;
    }
}

internal sealed class ExitRelease
{
    private ExitRelease(StatementSyntax? exit, BlockSyntax? end, SyntaxNode body)
    {
        Exit = exit;
        End = end;
        Body = body;
    }

    /// <summary>The return or throw statement of the way out, or null when the way out is the end of <see cref="End"/>.</summary>
    public StatementSyntax? Exit { get; }

    /// <summary>The body whose closing brace is the way out (falling off the end).</summary>
    public BlockSyntax? End { get; }

    /// <summary>The body of the member that holds the way out.</summary>
    public SyntaxNode Body { get; }

    /// <summary>Where the release goes: just before the way out.</summary>
    public int Position => Exit?.SpanStart ?? End!.CloseBraceToken.SpanStart;

    /// <summary>The way out a diagnostic reported at a return, a throw or a closing brace denotes, in the same body as <paramref name="acquire"/>.</summary>
    public static ExitRelease? Find(FixInput input, SyntaxNode acquire)
    {
        SyntaxToken token = input.Root.FindToken(input.PrimarySpan.Start);
        SyntaxNode? body = FixSyntax.Body(acquire);
        if (body is not BlockSyntax || token.SpanStart < acquire.Span.End)
        {
            return null;
        }

        if (token.IsKind(SyntaxKind.CloseBraceToken) && token.Parent == body)
        {
            return new ExitRelease(null, (BlockSyntax)body, body);
        }

        StatementSyntax? exit = token.Parent?.AncestorsAndSelf().OfType<StatementSyntax>().FirstOrDefault();
        if (exit is not (ReturnStatementSyntax or ThrowStatementSyntax { Expression: not null }) || FixSyntax.Body(exit) != body ||
            exit.Parent is not (BlockSyntax or SwitchSectionSyntax or IfStatementSyntax or ElseClauseSyntax))
        {
            return null;
        }

        return new ExitRelease(exit, null, body);
    }

    /// <summary>
    /// Whether <paramref name="expression"/> names the same value before the way out as at <paramref name="from"/>:
    /// constants, and chains of fields and properties from locals and parameters that nothing between writes.
    /// </summary>
    public bool IsStable(ExpressionSyntax expression, SyntaxNode from, SemanticModel model, CancellationToken cancellationToken)
    {
        if (model.GetConstantValue(expression, cancellationToken).HasValue)
        {
            return true;
        }

        switch (expression)
        {
            case ParenthesizedExpressionSyntax p:
                return IsStable(p.Expression, from, model, cancellationToken);
            case CastExpressionSyntax c:
                return IsStable(c.Expression, from, model, cancellationToken);
            case PrefixUnaryExpressionSyntax u when u.IsKind(SyntaxKind.UnaryMinusExpression):
                return IsStable(u.Operand, from, model, cancellationToken);
            case BinaryExpressionSyntax b when b.IsKind(SyntaxKind.AddExpression) || b.IsKind(SyntaxKind.SubtractExpression) || b.IsKind(SyntaxKind.MultiplyExpression):
                return model.GetSymbolInfo(b, cancellationToken).Symbol is not IMethodSymbol { MethodKind: MethodKind.UserDefinedOperator } &&
                    IsStable(b.Left, from, model, cancellationToken) && IsStable(b.Right, from, model, cancellationToken);
            case ThisExpressionSyntax:
                return true;
            case MemberAccessExpressionSyntax { RawKind: (int)SyntaxKind.SimpleMemberAccessExpression } m:
                return model.GetSymbolInfo(m, cancellationToken).Symbol is IFieldSymbol or IPropertySymbol { IsIndexer: false } &&
                    IsStable(m.Expression, from, model, cancellationToken);
            case IdentifierNameSyntax id:
                ISymbol? symbol = model.GetSymbolInfo(id, cancellationToken).Symbol;
                if (symbol is IFieldSymbol or IPropertySymbol { IsIndexer: false })
                {
                    return true;
                }

                return symbol is ILocalSymbol { IsRef: false } or IParameterSymbol { RefKind: RefKind.None or RefKind.In } &&
                    !FixSyntax.References(Body, symbol, model, cancellationToken).Any(r =>
                        FixSyntax.IsWrite(r) && r.SpanStart > from.Span.End && r.SpanStart < Position);
            default:
                return false;
        }
    }

    /// <summary>Whether the way out's value would be computed after the release although it reads one of <paramref name="symbols"/> or has effects.</summary>
    public bool ValueNeedsTemporary(IEnumerable<ISymbol> symbols, SemanticModel model, CancellationToken cancellationToken)
    {
        ExpressionSyntax? value = Exit switch
        {
            ReturnStatementSyntax r => r.Expression,
            ThrowStatementSyntax t => t.Expression,
            _ => null,
        };
        return value is not null && (FixSyntax.HasEffects(value) || symbols.Any(s => FixSyntax.References(value, s, model, cancellationToken).Any()));
    }

    /// <summary>
    /// The plan that inserts <paramref name="release"/> before the way out, when the analyzers confirm that it removes
    /// <paramref name="diagnostic"/> and adds nothing; null otherwise.
    /// </summary>
    public async Task<FixPlan?> CheckedPlanAsync(FixInput input, Diagnostic diagnostic, string title, string key, StatementSyntax release, bool temporary, System.Func<StatementSyntax, bool>? keepAfter, CancellationToken cancellationToken)
    {
        Document fixedDocument = await ApplyAsync(input.Document, release, temporary, input.Model, keepAfter, cancellationToken).ConfigureAwait(false);
        fixedDocument = await Formatter.FormatAsync(fixedDocument, Formatter.Annotation, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (fixedDocument == input.Document || !await FixCheck.FixesOnlyAsync(input.Document, fixedDocument, diagnostic, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return new FixPlan(title, key, _ => Task.FromResult(fixedDocument));
    }

    /// <summary>Where the way out is, for a title: "before this return", "before this throw", "at the end".</summary>
    public string Where => Exit switch
    {
        ReturnStatementSyntax => "before this return",
        ThrowStatementSyntax => "before this throw",
        _ => "at the end",
    };

    /// <summary>
    /// The document with <paramref name="release"/> before the way out (after the statements just before it that
    /// <paramref name="keepAfter"/> says must stay after the release, a Put after an end). With
    /// <paramref name="temporary"/>, a returned or thrown value is computed into a local first, so that it is computed
    /// before the release as it was.
    /// </summary>
    public async Task<Document> ApplyAsync(Document document, StatementSyntax release, bool temporary, SemanticModel model, System.Func<StatementSyntax, bool>? keepAfter, CancellationToken cancellationToken)
    {
        DocumentEditor editor = await DocumentEditor.CreateAsync(document, cancellationToken).ConfigureAwait(false);
        release = release.WithLeadingTrivia(SyntaxFactory.ElasticMarker).WithTrailingTrivia(SyntaxFactory.ElasticMarker).WithAdditionalAnnotations(Formatter.Annotation);
        if (End is not null)
        {
            editor.ReplaceNode(End, (current, _) =>
            {
                var block = (BlockSyntax)current;
                int at = block.Statements.Count;
                while (keepAfter is not null && at > 0 && keepAfter(block.Statements[at - 1]))
                {
                    at--;
                }

                return block.WithStatements(block.Statements.Insert(at, release));
            });
            return editor.GetChangedDocument();
        }

        StatementSyntax exit = Exit!;
        var inserted = new List<StatementSyntax>();
        StatementSyntax newExit = exit;
        if (temporary)
        {
            ExpressionSyntax value = exit is ReturnStatementSyntax r ? r.Expression! : ((ThrowStatementSyntax)exit).Expression!;
            ITypeSymbol? type = exit is ReturnStatementSyntax ? model.GetTypeInfo(value, cancellationToken).ConvertedType : model.GetTypeInfo(value, cancellationToken).Type;
            if (type is null || type is IErrorTypeSymbol || type.IsAnonymousType)
            {
                return document;
            }

            string name = FixSyntax.UniqueName(model, exit, exit is ReturnStatementSyntax ? "result" : "error");
            inserted.Add(SyntaxFactory.LocalDeclarationStatement(SyntaxFactory.VariableDeclaration(
                    ((TypeSyntax)editor.Generator.TypeExpression(type)).WithAdditionalAnnotations(Simplifier.Annotation),
                    SyntaxFactory.SingletonSeparatedList(SyntaxFactory.VariableDeclarator(name).WithInitializer(SyntaxFactory.EqualsValueClause(value.WithoutTrivia())))))
                .WithAdditionalAnnotations(Formatter.Annotation));
            ExpressionSyntax local = SyntaxFactory.IdentifierName(name).WithTriviaFrom(value);
            newExit = exit is ReturnStatementSyntax ret ? ret.WithExpression(local) : ((ThrowStatementSyntax)exit).WithExpression(local);
        }

        inserted.Add(release);
        if (exit.Parent is BlockSyntax or SwitchSectionSyntax)
        {
            SyntaxList<StatementSyntax> siblings = exit.Parent is BlockSyntax b ? b.Statements : ((SwitchSectionSyntax)exit.Parent).Statements;
            int index = siblings.IndexOf(exit);
            StatementSyntax anchor = exit;
            while (!temporary && keepAfter is not null && index > 0 && keepAfter(siblings[index - 1]))
            {
                index--;
                anchor = siblings[index];
            }

            SyntaxTriviaList leading = anchor.GetLeadingTrivia();
            inserted[0] = inserted[0].WithLeadingTrivia(leading);
            editor.InsertBefore(anchor, inserted);
            if (anchor == exit)
            {
                editor.ReplaceNode(exit, newExit.WithLeadingTrivia(SyntaxFactory.ElasticMarker).WithAdditionalAnnotations(Formatter.Annotation));
            }
            else
            {
                editor.ReplaceNode(anchor, anchor.WithLeadingTrivia(SyntaxFactory.ElasticMarker).WithAdditionalAnnotations(Formatter.Annotation));
                if (newExit != exit)
                {
                    editor.ReplaceNode(exit, newExit);
                }
            }

            return editor.GetChangedDocument();
        }

        // An embedded statement (if (...) return x;): it becomes a block.
        BlockSyntax wrapped = SyntaxFactory.Block(inserted.Append(newExit.WithoutLeadingTrivia()))
            .WithLeadingTrivia(exit.GetLeadingTrivia())
            .WithAdditionalAnnotations(Formatter.Annotation);
        editor.ReplaceNode(exit, wrapped);
        return editor.GetChangedDocument();
    }
}
