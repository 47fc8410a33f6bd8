// The fixes of DMA0009: an attachment's table unmapped before the Detach or before the way out that leaves it mapped.
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using DmaBuf.Analyzers;
using DmaBuf.Analyzers.Engine;
using DmaBuf.Analyzers.Rules;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Editing;
using Microsoft.CodeAnalysis.Formatting;
using Microsoft.CodeAnalysis.Operations;

namespace DmaBuf.CodeFixes;

/// <summary>
/// DMA0009 (the MapAttachment being the additional location, the kind of report in <c>properties["Kind"]</c>). For a
/// Detach while the table is mapped (<c>DetachWhileMapped</c>): "Unmap the table before detaching"
/// (<c>DMA0009.UnmapBeforeDetach</c>) inserts <c>buf.UnmapAttachment(att, t);</c> just before the Detach statement.
/// For a table not unmapped on some way out (<c>NotUnmapped</c>): "Unmap the table before the way out"
/// (<c>DMA0009.InsertUnmap</c>) inserts it before the <c>return</c> or <c>throw</c>, or at the end of the body that
/// falls off. Both need the table in a local <c>t</c> written once by <c>var t = buf.MapAttachment(att, dir);</c>
/// (or <c>t = ...;</c>) in a block that holds the insertion point outside any loop or function below it, the buffer
/// and attachment reusable and in scope there, the table used only through its members and the runtime's own
/// methods, and no other unmap of the table that could run before or after the inserted one. InsertUnmap is not
/// offered when the exit statement itself uses the table, or a finally block that runs after it. An unmap through
/// another attachment (<c>OtherTable</c>) gets no fix.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(AttachmentMappingFixer))]
public sealed class AttachmentMappingFixer : DmaBufFixer
{
    /// <summary>The equivalence key of the unmap inserted before a Detach.</summary>
    public const string UnmapBeforeDetachKey = "DMA0009.UnmapBeforeDetach";

    /// <summary>The equivalence key of the unmap inserted before a way out.</summary>
    public const string InsertUnmapKey = "DMA0009.InsertUnmap";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(RuleIdentifiers.UnmatchedAttachmentMapping);

    internal override string FixAllTitle(string equivalenceKey) =>
        equivalenceKey == UnmapBeforeDetachKey ? "Unmap every table before its attachment is detached" : "Unmap every table before the way out";

    internal override Task<IReadOnlyList<FixPlan>> PlanAsync(FixInput input, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        var plans = new List<FixPlan>();
        diagnostic.Properties.TryGetValue(FlowRule.KindProperty, out string? kind);
        Table? table = input.Related.Length == 1 ? Table.Find(input, FixSyntax.InvocationAt(input.Related[0]), cancellationToken) : null;
        if (table is not null)
        {
            if (kind == AttachmentMappingRule.DetachWhileMapped)
            {
                PlanBeforeDetach(input, table, plans, cancellationToken);
            }
            else if (kind == AttachmentMappingRule.NotUnmapped)
            {
                PlanBeforeExit(input, table, plans, cancellationToken);
            }
        }

        return Task.FromResult<IReadOnlyList<FixPlan>>(plans);
    }

    private static void PlanBeforeDetach(FixInput input, Table table, List<FixPlan> plans, CancellationToken cancellationToken)
    {
        SemanticModel model = input.Model;
        InvocationExpressionSyntax? detach = FixSyntax.InvocationAt(input.Primary);
        if (detach is null || model.GetOperation(detach, cancellationToken) is not IInvocationOperation detaching ||
            !KnownSymbols.IsSame(detaching.TargetMethod, input.Symbols.Detach) ||
            detach.Parent is not ExpressionStatementSyntax statement ||
            !FixSyntax.SameReceiver(model, table.Map, detach, cancellationToken) ||
            detaching.Arguments.Length != 1 ||
            !SymbolEqualityComparer.Default.Equals(Named(model, detaching.Arguments[0].Value.Syntax, cancellationToken), Named(model, table.Attachment, cancellationToken)) ||
            !table.CanInsertAt(statement, after: false, model, cancellationToken) ||
            table.Unmaps.Any(unmap => RunsBefore(unmap, statement.SpanStart) || Reaches(statement, unmap.SpanStart)))
        {
            return;
        }

        Document document = input.Document;
        plans.Add(new FixPlan($"Unmap '{table.Name.ValueText}' before detaching '{table.Attachment}'", UnmapBeforeDetachKey, async ct =>
        {
            DocumentEditor editor = await DocumentEditor.CreateAsync(document, ct).ConfigureAwait(false);
            InsertBefore(editor, statement, table.UnmapStatement(editor.Generator));
            return editor.GetChangedDocument();
        }));
    }

    private static void PlanBeforeExit(FixInput input, Table table, List<FixPlan> plans, CancellationToken cancellationToken)
    {
        SemanticModel model = input.Model;
        StatementSyntax? exit = input.Primary as StatementSyntax;
        int position;
        if (exit is ReturnStatementSyntax or ThrowStatementSyntax)
        {
            position = exit.SpanStart;
        }
        else if (input.Primary is BlockSyntax body && input.PrimarySpan == body.CloseBraceToken.Span && body == table.Body &&
            body.Statements.LastOrDefault(s => s is not LocalFunctionStatementSyntax) is { } last)
        {
            // Falls off the end: the unmap goes after the last statement that runs.
            exit = last;
            position = body.CloseBraceToken.SpanStart;
        }
        else
        {
            return;
        }

        bool before = position == exit.SpanStart;
        if (!table.CanInsertAt(exit, after: !before, model, cancellationToken) ||
            (before && FixSyntax.References(exit, table.Local, model, cancellationToken).Any()) ||
            exit.Ancestors().OfType<TryStatementSyntax>().Any(t => t.Block.Span.Contains(exit.Span) && t.Finally is { } f &&
                FixSyntax.References(f, table.Local, model, cancellationToken).Any()) ||
            table.Unmaps.Any(unmap => RunsBefore(unmap, position)))
        {
            return;
        }

        Document document = input.Document;
        plans.Add(new FixPlan($"Unmap '{table.Name.ValueText}' before the way out", InsertUnmapKey, async ct =>
        {
            DocumentEditor editor = await DocumentEditor.CreateAsync(document, ct).ConfigureAwait(false);
            StatementSyntax unmap = table.UnmapStatement(editor.Generator);
            if (before)
            {
                InsertBefore(editor, exit, unmap);
            }
            else
            {
                editor.InsertAfter(exit, unmap);
            }

            return editor.GetChangedDocument();
        }));
    }

    /// <summary>The local, parameter or field a simple expression names.</summary>
    private static ISymbol? Named(SemanticModel model, SyntaxNode syntax, CancellationToken cancellationToken) =>
        syntax is ExpressionSyntax expression ? FixSyntax.ReceiverSymbol(model, expression, cancellationToken) : null;

    /// <summary>Inserts <paramref name="inserted"/> before <paramref name="statement"/>, making a block of an embedded statement.</summary>
    private static void InsertBefore(DocumentEditor editor, StatementSyntax statement, StatementSyntax inserted)
    {
        if (statement.Parent is BlockSyntax or SwitchSectionSyntax)
        {
            editor.InsertBefore(statement, inserted);
            return;
        }

        editor.ReplaceNode(statement, (current, _) =>
            SyntaxFactory.Block(inserted, ((StatementSyntax)current).WithoutLeadingTrivia())
                .WithLeadingTrivia(current.GetLeadingTrivia())
                .WithAdditionalAnnotations(Formatter.Annotation));
    }

    /// <summary>
    /// Whether an unmap may run on a path through <paramref name="position"/>: before it, or after it in a finally
    /// block around it.
    /// </summary>
    private static bool RunsBefore(StatementSyntax unmap, int position) =>
        Reaches(unmap, position) ||
        unmap.Ancestors().OfType<FinallyClauseSyntax>().Any(f => f.Parent is TryStatementSyntax t && t.Block.Span.Contains(position));

    /// <summary>
    /// Whether <paramref name="from"/> may run and then go on to <paramref name="position"/>: it comes first, not in
    /// an if branch or switch section that excludes the position, and its block does not leave by a <c>return</c> or
    /// <c>throw</c> before the position (with no jump in between).
    /// Only textual order is looked at: the insertion point lies in no loop below the table's block, so a loop brings
    /// no path back to it without mapping the table again.
    /// </summary>
    private static bool Reaches(StatementSyntax from, int position)
    {
        if (from.SpanStart > position || from.Ancestors().Any(a => a switch
            {
                // The branch that holds it and the one that holds the position exclude each other.
                IfStatementSyntax branch => branch.Statement.Span.Contains(from.Span) && branch.Else is { } other && other.Span.Contains(position),
                SwitchSectionSyntax section => section.Parent is SwitchStatementSyntax switched && !section.Span.Contains(position) &&
                    switched.Sections.Any(s => s.Span.Contains(position)) && !section.DescendantNodes().Any(n => n is GotoStatementSyntax),
                _ => false,
            }))
        {
            return false;
        }

        if (from.Parent is not BlockSyntax block)
        {
            return true;
        }

        foreach (StatementSyntax next in block.Statements.Where(s => s.SpanStart > from.SpanStart))
        {
            if (next.Span.End > position ||
                next.DescendantNodesAndSelf().Any(n => n is BreakStatementSyntax or ContinueStatementSyntax or GotoStatementSyntax))
            {
                return true;
            }

            if (next is ReturnStatementSyntax or ThrowStatementSyntax)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// A table held in a local written once by <c>var t = buf.MapAttachment(att, dir);</c> or <c>t = ...;</c>, and
    /// what the body does with it: the unmaps of it, and whether it is used any other way than through its members
    /// and the runtime's methods (DmaRead, DmaWrite...).
    /// </summary>
    private sealed class Table
    {
        private Table(InvocationExpressionSyntax map, ExpressionSyntax receiver, ExpressionSyntax attachment, (ILocalSymbol Local, StatementSyntax Statement, BlockSyntax Block, SyntaxToken Name) stored, SyntaxNode body)
        {
            Map = map;
            Receiver = receiver;
            Attachment = attachment;
            Local = stored.Local;
            Statement = stored.Statement;
            Block = stored.Block;
            Name = stored.Name;
            Body = body;
        }

        public InvocationExpressionSyntax Map { get; }

        public ExpressionSyntax Receiver { get; }

        public ExpressionSyntax Attachment { get; }

        public ILocalSymbol Local { get; }

        public StatementSyntax Statement { get; }

        public BlockSyntax Block { get; }

        public SyntaxToken Name { get; }

        public SyntaxNode Body { get; }

        /// <summary>The <c>buf.UnmapAttachment(..., t);</c> statements that unmap this table.</summary>
        public List<StatementSyntax> Unmaps { get; } = new();

        public static Table? Find(FixInput input, InvocationExpressionSyntax? map, CancellationToken cancellationToken)
        {
            SemanticModel model = input.Model;
            KnownSymbols symbols = input.Symbols;
            if (map is null || model.GetOperation(map, cancellationToken) is not IInvocationOperation mapping ||
                !KnownSymbols.IsSame(mapping.TargetMethod, symbols.MapAttachment) ||
                FixSyntax.Receiver(map) is not { } receiver ||
                mapping.Arguments.FirstOrDefault(a => a.Parameter?.Ordinal == 0)?.Value.Syntax is not ExpressionSyntax attachment ||
                FixSyntax.StoredLocal(map, model, cancellationToken) is not { } stored ||
                FixSyntax.Body(stored.Block) is not { } body ||
                !FixSyntax.IsReusable(receiver, model, new[] { body }, cancellationToken) ||
                !FixSyntax.IsReusable(attachment, model, new[] { body }, cancellationToken))
            {
                return null;
            }

            var table = new Table(map, receiver, attachment, stored, body);
            foreach (IdentifierNameSyntax id in FixSyntax.References(body, stored.Local, model, cancellationToken))
            {
                if (id.Parent is AssignmentExpressionSyntax { Parent: var parent } && parent == stored.Statement)
                {
                    continue;
                }

                if (FixSyntax.Body(id) != body || !table.Classify(id, model, symbols, cancellationToken))
                {
                    return null;
                }
            }

            return table;
        }

        /// <summary>Notes an unmap of the table; false when the reference lets the table escape or writes the local.</summary>
        private bool Classify(IdentifierNameSyntax id, SemanticModel model, KnownSymbols symbols, CancellationToken cancellationToken)
        {
            switch (model.GetOperation(id, cancellationToken)?.Parent)
            {
                case IInvocationOperation call when call.Instance?.Syntax == id:
                    return true;
                case IPropertyReferenceOperation property when property.Instance?.Syntax == id:
                    return true;
                case IArgumentOperation { Parent: IInvocationOperation call } argument
                    when SymbolEqualityComparer.Default.Equals(call.TargetMethod.ContainingAssembly, symbols.DmaBuffer.ContainingAssembly):
                    if (KnownSymbols.IsSame(call.TargetMethod, symbols.UnmapAttachment) && argument.Parameter?.Ordinal == 1)
                    {
                        if (call.Syntax.Parent is not ExpressionStatementSyntax unmap)
                        {
                            return false;
                        }

                        Unmaps.Add(unmap);
                    }

                    return true;
                default:
                    return false;
            }
        }

        /// <summary>
        /// Whether the unmap can be written just before or just after <paramref name="statement"/>: after the map in
        /// its block, in no loop or function below that block, with the table, buffer and attachment in scope.
        /// </summary>
        public bool CanInsertAt(StatementSyntax statement, bool after, SemanticModel model, CancellationToken cancellationToken)
        {
            // Inside the statement's last token: a block's closing brace is bound outside the block.
            int position = after ? statement.Span.End - 1 : statement.SpanStart;
            return Block.Span.Contains(statement.Span) && (statement == Statement || statement.SpanStart >= Statement.Span.End) &&
                !FixSyntax.IsInLoopOrFunctionBelow(statement, Block) &&
                InScope(Local, position, model) &&
            new[] { Receiver, Attachment }.SelectMany(e => e.DescendantNodesAndSelf().OfType<IdentifierNameSyntax>())
                .All(id => model.GetSymbolInfo(id, cancellationToken).Symbol is not { } symbol ||
                    symbol is ITypeSymbol or INamespaceSymbol || InScope(symbol, position, model));
        }

        private static bool InScope(ISymbol symbol, int position, SemanticModel model) =>
            model.LookupSymbols(position, name: symbol.Name).Any(s => SymbolEqualityComparer.Default.Equals(s, symbol));

        /// <summary><c>buf.UnmapAttachment(att, t);</c>.</summary>
        public StatementSyntax UnmapStatement(SyntaxGenerator g) =>
            ((StatementSyntax)g.ExpressionStatement(g.InvocationExpression(
                g.MemberAccessExpression(Receiver.WithoutTrivia(), "UnmapAttachment"),
                Attachment.WithoutTrivia(),
                SyntaxFactory.IdentifierName(Name))))
            .WithAdditionalAnnotations(Formatter.Annotation);
    }
}
