// The main fix of DMA0010: put the reference in a finally block.
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
using Microsoft.CodeAnalysis.Operations;

namespace DmaBuf.CodeFixes;

/// <summary>
/// DMA0010 (reported at the way out, the Export or Get being the additional location): "Put the reference in a
/// finally block" (<c>DMA0010.PutInFinally</c>) wraps the statements after <c>var b = DmaBuffer.Export(...);</c> (or
/// <c>b = DmaBuffer.Get(fd);</c>) in <c>try { ... } finally { b.Put(); }</c>: to the first <c>b.Put();</c> of the same
/// block, which moves into the finally block, or to the end of the block. The <c>b.Put();</c> statements inside that
/// the finally block makes redundant are removed. Not offered when the local is written again or used any other way
/// than through its members (copied, passed on, captured: something else could put it), or when a Put inside is not
/// a plain statement after which nothing runs before the finally block (in a loop, a lambda, a switch, followed by
/// more code).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UnputBufferReferenceFixer))]
public sealed class UnputBufferReferenceFixer : DmaBufFixer
{
    /// <summary>The equivalence key of "Put the reference in a finally block".</summary>
    public const string PutInFinallyKey = "DMA0010.PutInFinally";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(RuleIdentifiers.UnputBufferReference);

    internal override string FixAllTitle(string equivalenceKey) => "Put every buffer reference in a finally block";

    internal override Task<IReadOnlyList<FixPlan>> PlanAsync(FixInput input, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        var plans = new List<FixPlan>();
        Region? region = input.Related.Length == 1 ? Region.Find(input, FixSyntax.InvocationAt(input.Related[0]), cancellationToken) : null;
        if (region is not null)
        {
            Document document = input.Document;
            plans.Add(new FixPlan($"Put '{region.Name.ValueText}' in a finally block", PutInFinallyKey, ct => ApplyAsync(document, region, ct)));
        }

        return Task.FromResult<IReadOnlyList<FixPlan>>(plans);
    }

    private static async Task<Document> ApplyAsync(Document document, Region region, CancellationToken cancellationToken)
    {
        DocumentEditor editor = await DocumentEditor.CreateAsync(document, cancellationToken).ConfigureAwait(false);
        foreach (ExpressionStatementSyntax put in region.Removed)
        {
            FixSyntax.RemoveStatementKeepingComments(editor, put);
        }

        StatementSyntax finalPut;
        if (region.MovedPut is { } moved)
        {
            editor.RemoveNode(moved, SyntaxRemoveOptions.KeepNoTrivia);
            SyntaxTriviaList leading = moved.GetLeadingTrivia();
            finalPut = moved.WithLeadingTrivia(leading.Any(FixSyntax.IsComment) ? leading : default);
        }
        else
        {
            SyntaxGenerator g = editor.Generator;
            finalPut = (StatementSyntax)g.ExpressionStatement(g.InvocationExpression(g.MemberAccessExpression(SyntaxFactory.IdentifierName(region.Name), "Put")));
        }

        editor.ReplaceNode(region.Block, (current, _) => region.Wrap((BlockSyntax)current, finalPut));
        return editor.GetChangedDocument();
    }

    /// <summary>
    /// The statements the finally block covers: from the one after the take to the first top-level <c>b.Put();</c>
    /// (moved into the finally block), or to the end of the block when there is none or when locals declared inside
    /// are used after it. Every other Put of the local must be one the finally block makes redundant.
    /// </summary>
    private sealed class Region
    {
        private Region(StatementSyntax take, BlockSyntax block, SyntaxToken name)
        {
            Block = block;
            Name = name;
            TakeIndex = block.Statements.IndexOf(take);
        }

        public BlockSyntax Block { get; }

        /// <summary>The local's name, as written where the reference is stored.</summary>
        public SyntaxToken Name { get; }

        public int TakeIndex { get; }

        /// <summary>How many statements after the take the region covers, once its redundant Puts are removed.</summary>
        public int Count { get; private set; }

        /// <summary>The top-level <c>b.Put();</c> right after the region, moved into the finally block.</summary>
        public ExpressionStatementSyntax? MovedPut { get; private set; }

        public List<ExpressionStatementSyntax> Removed { get; } = new();

        public static Region? Find(FixInput input, InvocationExpressionSyntax? take, CancellationToken cancellationToken)
        {
            SemanticModel model = input.Model;
            KnownSymbols symbols = input.Symbols;
            if (take is null || model.GetOperation(take, cancellationToken) is not IInvocationOperation taking ||
                !(KnownSymbols.IsSame(taking.TargetMethod, symbols.Export) || KnownSymbols.IsSame(taking.TargetMethod, symbols.Get)) ||
                FixSyntax.StoredLocal(take, model, cancellationToken) is not { } stored ||
                FixSyntax.Body(stored.Block) is not { } body)
            {
                return null;
            }

            var region = new Region(stored.Statement, stored.Block, stored.Name);
            BlockSyntax block = stored.Block;
            List<StatementSyntax> rest = block.Statements.Skip(region.TakeIndex + 1).ToList();

            // Every use of the local after the take, in this block, through its members; the Puts among them.
            var puts = new List<InvocationExpressionSyntax>();
            foreach (IdentifierNameSyntax id in FixSyntax.References(body, stored.Local, model, cancellationToken))
            {
                if (id.Parent is AssignmentExpressionSyntax { Parent: var parent } && parent == stored.Statement)
                {
                    continue;
                }

                if (id.SpanStart < stored.Statement.Span.End || id.SpanStart >= block.CloseBraceToken.SpanStart || FixSyntax.Body(id) != body)
                {
                    // Used before the take or after its block (the reference may be put there), or captured.
                    return null;
                }

                switch (model.GetOperation(id, cancellationToken)?.Parent)
                {
                    case IInvocationOperation call when call.Instance?.Syntax == id:
                        if (KnownSymbols.IsSame(call.TargetMethod, symbols.Put))
                        {
                            puts.Add((InvocationExpressionSyntax)call.Syntax);
                        }

                        break;
                    case IPropertyReferenceOperation property when property.Instance?.Syntax == id:
                        break;
                    default:
                        // Written again, copied, passed on or returned: another reference or another owner.
                        return null;
                }
            }

            int putIndex = rest.FindIndex(s => s is ExpressionStatementSyntax { Expression: InvocationExpressionSyntax call } && puts.Contains(call));
            List<StatementSyntax> covered = putIndex < 0 ? rest : rest.Take(putIndex).ToList();
            if (putIndex >= 0 && FixSyntax.DeclaresLocalsUsedIn(covered, rest.Skip(putIndex + 1), model, cancellationToken))
            {
                // The Put stays where it is, the region goes on to the end of the block.
                covered = rest;
            }

            if (covered.Count < rest.Count)
            {
                region.MovedPut = (ExpressionStatementSyntax)rest[putIndex];
            }

            // A label inside could no longer be jumped to from outside the try block; local functions stay outside
            // it, so they may not use the locals declared inside.
            if (covered.All(s => s is LocalFunctionStatementSyntax) || covered.Any(s => s is LabeledStatementSyntax) ||
                FixSyntax.DeclaresLocalsUsedIn(covered, covered.OfType<LocalFunctionStatementSyntax>(), model, cancellationToken))
            {
                return null;
            }

            foreach (InvocationExpressionSyntax put in puts)
            {
                if (put.Parent == region.MovedPut)
                {
                    continue;
                }

                if (put.Parent is not ExpressionStatementSyntax statement || !covered.Any(s => s.Span.Contains(put.Span)) ||
                    !region.EndsRegion(statement, covered[covered.Count - 1]))
                {
                    return null;
                }

                region.Removed.Add(statement);
            }

            region.Count = covered.Count - region.Removed.Count(r => r.Parent == block);
            return region;
        }

        /// <summary>
        /// Whether nothing runs between <paramref name="put"/> and the end of the region: it is followed only by a
        /// <c>return</c> or <c>throw</c> without effects, or ends its block, whose statement (an if or else branch,
        /// a nested block) ends its own block in turn, up to <paramref name="last"/>, the region's last statement.
        /// </summary>
        private bool EndsRegion(ExpressionStatementSyntax put, StatementSyntax last)
        {
            SyntaxNode node = put;
            while (true)
            {
                switch (node.Parent)
                {
                    case BlockSyntax holder:
                        var following = holder.Statements.Skip(holder.Statements.IndexOf((StatementSyntax)node) + 1).ToList();
                        if (following.Count > 0)
                        {
                            return following.Count == 1 && FixSyntax.IsExitWithoutEffects(following[0]);
                        }

                        if (holder == Block)
                        {
                            return node == last;
                        }

                        node = holder;
                        break;
                    case IfStatementSyntax branch:
                        node = branch;
                        break;
                    case ElseClauseSyntax { Parent: IfStatementSyntax branch }:
                        node = branch;
                        break;
                    default:
                        // A loop, a switch section, a try, using or lock statement: more may run, or run again.
                        return false;
                }
            }
        }

        /// <summary>
        /// Replaces the region's statements of <paramref name="current"/> (redundant Puts already removed) by
        /// <c>try { ... } finally { put }</c>; local functions declared there go after the try statement.
        /// </summary>
        public BlockSyntax Wrap(BlockSyntax current, StatementSyntax put)
        {
            SyntaxList<StatementSyntax> statements = current.Statements;
            List<StatementSyntax> region = statements.Skip(TakeIndex + 1).Take(Count).ToList();
            TryStatementSyntax wrapped = SyntaxFactory.TryStatement(
                    SyntaxFactory.Block(region.Where(s => s is not LocalFunctionStatementSyntax).Select(s => FixSyntax.IndentComments(s))),
                    default,
                    SyntaxFactory.FinallyClause(SyntaxFactory.Block(put)))
                .WithAdditionalAnnotations(Formatter.Annotation);
            var result = new List<StatementSyntax>(statements.Take(TakeIndex + 1)) { wrapped };
            result.AddRange(region.OfType<LocalFunctionStatementSyntax>());
            result.AddRange(statements.Skip(TakeIndex + 1 + Count));
            return current.WithStatements(SyntaxFactory.List(result));
        }
    }
}
