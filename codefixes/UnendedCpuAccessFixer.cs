// The main fixes of DMA0001: a CpuAccess scope, or the end of the access in a finally block.
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using DmaBuf.Analyzers;
using DmaBuf.Analyzers.Rules;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Editing;
using Microsoft.CodeAnalysis.Formatting;

namespace DmaBuf.CodeFixes;

/// <summary>
/// DMA0001 (reported at the way out, the begin being the additional location), for a ranged or a whole-buffer begin
/// (the scope and the end are written in the begin's form): "Use a CpuAccess scope"
/// (<c>DMA0001.UseScope</c>) turns <c>buf.BeginCpuAccess(...)</c> into <c>using var access = buf.CpuAccess(...)</c>, or
/// <c>using (buf.CpuAccess(...)) { ... }</c> when code after the access's end must stay outside it; "End CPU access in a
/// finally block" (<c>DMA0001.EndInFinally</c>) wraps the code after the begin in <c>try { ... } finally { buf.EndCpuAccess(...); }</c>.
/// Both cover the code from the begin to the access's end in the same block (or to the end of the block) and remove
/// the EndCpuAccess calls with the same arguments that the scope or the finally block replaces. For an access a helper
/// began for its caller, "End CPU access in a finally block" wraps the code after the call's statement, with the end
/// the analyzers write in the caller's terms.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UnendedCpuAccessFixer))]
public sealed class UnendedCpuAccessFixer : DmaBufFixer
{
    /// <summary>The equivalence key of "Use a CpuAccess scope".</summary>
    public const string UseScopeKey = "DMA0001.UseScope";

    /// <summary>The equivalence key of "End CPU access in a finally block".</summary>
    public const string EndInFinallyKey = "DMA0001.EndInFinally";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(RuleIdentifiers.UnendedCpuAccess);

    internal override string FixAllTitle(string equivalenceKey) =>
        equivalenceKey == EndInFinallyKey ? "End every CPU access in a finally block" : "Use a CpuAccess scope for every CPU access";

    internal override async Task<IReadOnlyList<FixPlan>> PlanAsync(FixInput input, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        var plans = new List<FixPlan>();
        Region? region = input.Related.Length == 1 ? Region.Find(input, FixSyntax.InvocationAt(input.Related[0]), cancellationToken) : null;
        if (region is null)
        {
            if (await CallerFinallyAsync(input, diagnostic, cancellationToken).ConfigureAwait(false) is { } plan)
            {
                plans.Add(plan);
            }

            return plans;
        }

        Document document = input.Document;
        bool declaration = region.ReachesBlockEnd && FixSyntax.AllowsUsingDeclaration(region.BeginStatement);
        string name = declaration ? FixSyntax.UniqueName(input.Model, region.BeginStatement, "access") : string.Empty;
        plans.Add(new FixPlan("Use a CpuAccess scope", UseScopeKey, ct => ApplyScopeAsync(document, region, declaration, name, ct)));
        if (!region.IsScope)
        {
            plans.Add(new FixPlan("End CPU access in a finally block", EndInFinallyKey, ct => ApplyFinallyAsync(document, region, ct)));
        }

        return plans;
    }

    /// <summary>
    /// An access that a method of the compilation began for its caller (<c>var same = BeginRead(buf);</c>,
    /// <c>buf.Reading().PageByte(0)</c>): the analyzers write its buffer and arguments in the caller's terms (the
    /// diagnostic's properties), and the code after the statement of the call, to the end of its block, goes into a
    /// try whose finally block ends the access with them. Offered where nothing in that code writes what the end
    /// reads, calls CPU access on the buffer or hands a buffer to a method of the compilation (which may end it), and
    /// only when the analyzers confirm it.
    /// </summary>
    private static async Task<FixPlan?> CallerFinallyAsync(FixInput input, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        SemanticModel model = input.Model;
        InvocationExpressionSyntax? call = input.Related.Length == 1 ? FixSyntax.InvocationAt(input.Related[0]) : null;
        if (call is null || CpuAccessCall.IsAny(model, input.Symbols, call, cancellationToken) ||
            !diagnostic.Properties.TryGetValue(UnendedCpuAccessRule.BufferProperty, out string? bufferText) || bufferText is null ||
            !diagnostic.Properties.TryGetValue(UnendedCpuAccessRule.ArgumentsProperty, out string? argumentsText) || argumentsText is null)
        {
            return null;
        }

        StatementSyntax? statement = call.Ancestors().TakeWhile(a => a is not (AnonymousFunctionExpressionSyntax or LocalFunctionStatementSyntax)).OfType<StatementSyntax>().FirstOrDefault();
        if (statement is not (ExpressionStatementSyntax or LocalDeclarationStatementSyntax { UsingKeyword.RawKind: (int)SyntaxKind.None }) ||
            statement.Parent is not BlockSyntax block || FixSyntax.Body(block) is not { } body)
        {
            return null;
        }

        int index = block.Statements.IndexOf(statement);
        List<StatementSyntax> covered = block.Statements.Skip(index + 1).ToList();
        ExpressionSyntax receiver = SyntaxFactory.ParseExpression(bufferText);
        ArgumentListSyntax arguments = SyntaxFactory.ParseArgumentList("(" + argumentsText + ")");
        if (covered.Count == 0 || receiver.ContainsDiagnostics || arguments.ContainsDiagnostics ||
            FixSyntax.HasEffects(receiver) || FixSyntax.HasEffects(arguments) || arguments.Arguments.Count is not (1 or 3))
        {
            return null;
        }

        // What the end reads must hold the same values at the end of the block as at the call.
        IEnumerable<IdentifierNameSyntax> read = receiver.DescendantNodesAndSelf().Concat(arguments.DescendantNodes()).OfType<IdentifierNameSyntax>()
            .Where(id => id.Parent is not MemberAccessExpressionSyntax { Name: var name } || name != id);
        foreach (IdentifierNameSyntax id in read)
        {
            ISymbol? symbol = model.LookupSymbols(statement.SpanStart, name: id.Identifier.ValueText).FirstOrDefault();
            if (symbol is ILocalSymbol or IParameterSymbol ? FixSyntax.IsWrittenIn(covered, symbol, model, cancellationToken) : symbol is IFieldSymbol { IsReadOnly: false, IsConst: false })
            {
                return null;
            }
        }

        // A CPU access call on the buffer after the call, or a method of the compilation handed a buffer (the helper's
        // counterpart, through any alias of it), may end the access on some path: the finally would end it again.
        bool OnBuffer(InvocationExpressionSyntax c) =>
            CpuAccessCall.IsAny(model, input.Symbols, c, cancellationToken) && FixSyntax.Receiver(c) is { } r && SyntaxFactory.AreEquivalent(r, receiver);
        bool HandsBuffer(InvocationExpressionSyntax c) =>
            FixSyntax.Method(model, c, cancellationToken) is { DeclaringSyntaxReferences.IsEmpty: false } method &&
            ((method.ReducedFrom ?? method).Parameters.Any(p => SymbolEqualityComparer.Default.Equals(p.Type, input.Symbols.DmaBuffer)) ||
                !method.IsStatic && SymbolEqualityComparer.Default.Equals(method.ContainingType, input.Symbols.DmaBuffer));
        if (body.DescendantNodes().OfType<InvocationExpressionSyntax>().Any(c => c.SpanStart > call.Span.End && !call.Span.Contains(c.Span) && (OnBuffer(c) || HandsBuffer(c))))
        {
            return null;
        }

        StatementSyntax end = SyntaxFactory.ExpressionStatement(SyntaxFactory.InvocationExpression(
            SyntaxFactory.MemberAccessExpression(SyntaxKind.SimpleMemberAccessExpression, receiver, SyntaxFactory.IdentifierName("EndCpuAccess")), arguments));
        Document document = input.Document;
        DocumentEditor editor = await DocumentEditor.CreateAsync(document, cancellationToken).ConfigureAwait(false);
        editor.ReplaceNode(block, (current, _) =>
        {
            var currentBlock = (BlockSyntax)current;
            StatementSyntax wrapped = SyntaxFactory.TryStatement(
                    SyntaxFactory.Block(currentBlock.Statements.Skip(index + 1).Select(s => FixSyntax.IndentComments(s))),
                    default,
                    SyntaxFactory.FinallyClause(SyntaxFactory.Block(end)))
                .WithAdditionalAnnotations(Formatter.Annotation);
            return currentBlock.WithStatements(SyntaxFactory.List(currentBlock.Statements.Take(index + 1).Append(wrapped)));
        });
        return await FixCheck.PlanIfFixesAsync(document, editor.GetChangedDocument(), diagnostic, "End CPU access in a finally block", EndInFinallyKey, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<Document> ApplyScopeAsync(Document document, Region region, bool declaration, string name, CancellationToken cancellationToken)
    {
        DocumentEditor editor = await DocumentEditor.CreateAsync(document, cancellationToken).ConfigureAwait(false);
        region.RemoveEnds(editor, keepMovedComments: true);
        ExpressionSyntax scopeCall = region.CallNamed("CpuAccess");
        StatementSyntax begin = region.BeginStatement;
        if (declaration)
        {
            LocalDeclarationStatementSyntax statement = SyntaxFactory.LocalDeclarationStatement(
                    SyntaxFactory.VariableDeclaration(
                        SyntaxFactory.IdentifierName("var"),
                        SyntaxFactory.SingletonSeparatedList(SyntaxFactory.VariableDeclarator(SyntaxFactory.Identifier(name)).WithInitializer(SyntaxFactory.EqualsValueClause(scopeCall)))))
                .WithUsingKeyword(SyntaxFactory.Token(SyntaxKind.UsingKeyword))
                .WithTriviaFrom(begin)
                .WithAdditionalAnnotations(Formatter.Annotation);
            editor.ReplaceNode(begin, statement);
            return editor.GetChangedDocument();
        }

        editor.ReplaceNode(region.Block, (current, _) => region.Wrap((BlockSyntax)current, keepBegin: false, inner =>
            SyntaxFactory.UsingStatement(
                    declaration: null,
                    expression: scopeCall,
                    statement: SyntaxFactory.Block(inner))
                .WithLeadingTrivia(begin.GetLeadingTrivia())
                .WithCloseParenToken(SyntaxFactory.Token(SyntaxKind.CloseParenToken).WithTrailingTrivia(begin.GetTrailingTrivia()))));
        return editor.GetChangedDocument();
    }

    private static async Task<Document> ApplyFinallyAsync(Document document, Region region, CancellationToken cancellationToken)
    {
        DocumentEditor editor = await DocumentEditor.CreateAsync(document, cancellationToken).ConfigureAwait(false);
        region.RemoveEnds(editor, keepMovedComments: false);
        StatementSyntax end = region.MovedEnd?.WithoutLeadingTrivia() ??
            SyntaxFactory.ExpressionStatement(region.CallNamed("EndCpuAccess"));
        SyntaxTriviaList endComments = region.MovedEnd is null ? default : Comments(region.MovedEnd.GetLeadingTrivia());
        editor.ReplaceNode(region.Block, (current, _) =>
        {
            return region.Wrap((BlockSyntax)current, keepBegin: true, inner =>
                SyntaxFactory.TryStatement(
                    SyntaxFactory.Block(inner),
                    default,
                    SyntaxFactory.FinallyClause(SyntaxFactory.Block(end.WithLeadingTrivia(endComments)))));
        });
        return editor.GetChangedDocument();
    }

    private static SyntaxTriviaList Comments(SyntaxTriviaList trivia) =>
        trivia.Any(t => t.IsKind(SyntaxKind.SingleLineCommentTrivia) || t.IsKind(SyntaxKind.MultiLineCommentTrivia)) ? trivia : default;

    /// <summary>
    /// The statements the access covers: from the one after the begin to the first EndCpuAccess with the same
    /// arguments in the same block (that end is moved), or to the end of the block when locals declared inside are
    /// used after that end, or when there is none. Every other EndCpuAccess with the same arguments inside must be
    /// one the scope or finally block makes redundant without moving anything else: at the end of the region, or
    /// followed only by a <c>return</c> or <c>throw</c> whose expression has no effects.
    /// </summary>
    private sealed class Region
    {
        private Region(InvocationExpressionSyntax begin, ExpressionStatementSyntax beginStatement, BlockSyntax block, bool isScope)
        {
            Begin = begin;
            BeginStatement = beginStatement;
            Block = block;
            IsScope = isScope;
            BeginIndex = block.Statements.IndexOf(beginStatement);
        }

        public InvocationExpressionSyntax Begin { get; }

        public ExpressionStatementSyntax BeginStatement { get; }

        public BlockSyntax Block { get; }

        /// <summary>The begin is a discarded <c>buf.CpuAccess(...)</c>, not <c>BeginCpuAccess</c>.</summary>
        public bool IsScope { get; }

        public int BeginIndex { get; }

        /// <summary>How many statements after the begin the region covers, once its redundant ends are removed.</summary>
        public int Count { get; private set; }

        public bool ReachesBlockEnd { get; private set; }

        /// <summary>The EndCpuAccess right after the region, moved into the finally block (or dropped for a scope).</summary>
        public ExpressionStatementSyntax? MovedEnd { get; private set; }

        public List<StatementSyntax> Removed { get; } = new();

        public static Region? Find(FixInput input, InvocationExpressionSyntax? begin, CancellationToken cancellationToken)
        {
            SemanticModel model = input.Model;
            KnownSymbols symbols = input.Symbols;
            bool isScope;
            if (CpuAccessCall.IsBegin(model, symbols, begin, cancellationToken))
            {
                isScope = false;
            }
            else if (CpuAccessCall.IsScope(model, symbols, begin, cancellationToken))
            {
                isScope = true;
            }
            else
            {
                return null;
            }

            if (begin!.Parent is not ExpressionStatementSyntax { Parent: BlockSyntax block } beginStatement ||
                !CpuAccessCall.HasPositionalArguments(begin) ||
                FixSyntax.ReceiverSymbol(model, FixSyntax.Receiver(begin), cancellationToken) is null ||
                FixSyntax.Body(block) is not { } body)
            {
                return null;
            }

            var region = new Region(begin, beginStatement, block, isScope);
            List<StatementSyntax> rest = block.Statements.Skip(region.BeginIndex + 1).ToList();
            // The same arguments are the same form: a whole-buffer end never ends a ranged access, nor the reverse.
            bool Matches(InvocationExpressionSyntax call) =>
                CpuAccessCall.IsEnd(model, symbols, call, cancellationToken) &&
                FixSyntax.SameReceiver(model, begin, call, cancellationToken) &&
                FixSyntax.SameArguments(begin, call);

            int endIndex = rest.FindIndex(s => s is ExpressionStatementSyntax { Expression: InvocationExpressionSyntax call } && Matches(call));
            List<StatementSyntax> covered = endIndex < 0 ? rest : rest.Take(endIndex).ToList();
            if (endIndex >= 0 && covered.Count > 0)
            {
                DataFlowAnalysis? flow = model.AnalyzeDataFlow(covered[0], covered[covered.Count - 1]);
                IEnumerable<StatementSyntax> later = rest.Skip(endIndex + 1);
                if (flow is null || !flow.Succeeded ||
                    flow.VariablesDeclared.Any(local => later.Any(s => FixSyntax.References(s, local, model, cancellationToken).Any())))
                {
                    covered = rest;
                }
            }

            if (covered.Count < rest.Count)
            {
                region.MovedEnd = (ExpressionStatementSyntax)rest[endIndex];
            }

            // Nothing after the end but a return or throw without effects: a using declaration covers exactly as much.
            List<StatementSyntax> tail = endIndex < 0 ? new List<StatementSyntax>() : rest.Skip(endIndex + 1).ToList();
            region.ReachesBlockEnd = covered.Count == rest.Count ||
                tail.Count == 0 ||
                (tail.Count == 1 && tail[0] switch
                {
                    ReturnStatementSyntax r => !FixSyntax.HasEffects(r.Expression),
                    ThrowStatementSyntax t => !FixSyntax.HasEffects(t.Expression),
                    _ => false,
                });

            // The arguments and the buffer are evaluated again at the end: nothing in the region may change them.
            if (FixSyntax.Receiver(begin) is not { } receiver || !FixSyntax.IsReusable(receiver, model, covered, cancellationToken) ||
                begin.ArgumentList.Arguments.Any(a => !FixSyntax.IsReusable(a.Expression, model, covered, cancellationToken)))
            {
                return null;
            }

            // Every CPU access call on this buffer inside the region must be a redundant end of this very access.
            foreach (StatementSyntax statement in covered)
            {
                foreach (InvocationExpressionSyntax call in statement.DescendantNodesAndSelf().OfType<InvocationExpressionSyntax>())
                {
                    if (!CpuAccessCall.IsAny(model, symbols, call, cancellationToken) || !FixSyntax.SameReceiver(model, begin, call, cancellationToken))
                    {
                        continue;
                    }

                    if (!Matches(call) || call.Parent is not ExpressionStatementSyntax end || !region.IsRedundant(end, statement))
                    {
                        return null;
                    }

                    region.Removed.Add(end);
                }
            }

            // An end of this buffer outside the region would end the access twice once the region ends it.
            foreach (InvocationExpressionSyntax call in body.DescendantNodes().OfType<InvocationExpressionSyntax>())
            {
                if (CpuAccessCall.IsEnd(model, symbols, call, cancellationToken) && FixSyntax.SameReceiver(model, begin, call, cancellationToken) &&
                    call.Parent != region.MovedEnd && !covered.Any(s => s.Span.Contains(call.Span)) &&
                    (call.SpanStart > begin.SpanStart || begin.Ancestors().Any(FixSyntax.IsLoop)))
                {
                    return null;
                }
            }

            region.Count = covered.Count - region.Removed.Count(r => r.Parent == block);
            return region;
        }

        private bool IsRedundant(ExpressionStatementSyntax end, StatementSyntax top)
        {
            if (end.Parent is not BlockSyntax holder || FixSyntax.IsInLoopOrFunctionBelow(end, Block))
            {
                return false;
            }

            List<StatementSyntax> following = holder.Statements.Skip(holder.Statements.IndexOf(end) + 1).ToList();
            if (following.Count == 0)
            {
                // The end closes the region: only at the region's own top level, as its last statement.
                return end == top && holder == Block && top == Block.Statements.Last();
            }

            return following.Count == 1 && following[0] switch
            {
                ReturnStatementSyntax r => !FixSyntax.HasEffects(r.Expression),
                ThrowStatementSyntax t => !FixSyntax.HasEffects(t.Expression),
                _ => false,
            };
        }

        /// <summary>The begin's call with another method name (<c>CpuAccess</c>, <c>EndCpuAccess</c>), in its form, arguments and comments kept.</summary>
        public ExpressionSyntax CallNamed(string name) => CpuAccessCall.Renamed(Begin, name);

        public void RemoveEnds(DocumentEditor editor, bool keepMovedComments)
        {
            foreach (StatementSyntax end in Removed)
            {
                FixSyntax.RemoveStatementKeepingComments(editor, end);
            }

            if (MovedEnd is not null)
            {
                if (keepMovedComments)
                {
                    FixSyntax.RemoveStatementKeepingComments(editor, MovedEnd);
                }
                else
                {
                    editor.RemoveNode(MovedEnd, SyntaxRemoveOptions.KeepNoTrivia);
                }
            }
        }

        /// <summary>Replaces the begin and the region's statements of <paramref name="current"/> (ends already removed) by one statement.</summary>
        public BlockSyntax Wrap(BlockSyntax current, bool keepBegin, System.Func<IEnumerable<StatementSyntax>, StatementSyntax> make)
        {
            SyntaxList<StatementSyntax> statements = current.Statements;
            List<StatementSyntax> inner = statements.Skip(BeginIndex + 1).Take(Count).Select(s => FixSyntax.IndentComments(s)).ToList();
            StatementSyntax wrapped = make(inner).WithAdditionalAnnotations(Formatter.Annotation);
            var result = new List<StatementSyntax>(statements.Take(BeginIndex));
            if (keepBegin)
            {
                result.Add(statements[BeginIndex]);
            }

            result.Add(wrapped);
            result.AddRange(statements.Skip(BeginIndex + 1 + Count));
            return current.WithStatements(SyntaxFactory.List(result));
        }
    }
}
