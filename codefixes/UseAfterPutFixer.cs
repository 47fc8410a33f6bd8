// DMA0011 for a use after the code's own Put: "Put 'buf' after its last use" (DMA0011.PutAfterUse) moves the Put (or
// the helper call that puts) down past the uses that follow it in the same block, so the reference is held while used;
// "Read 'buf.Size' before the reference is put" (DMA0011.ReadBeforePut) reads a property fixed at export into a local
// before the statement that puts, for the uses after it (the Put inside a helper whose result is checked first).
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
using Microsoft.CodeAnalysis.Simplification;

namespace DmaBuf.CodeFixes;

/// <summary>
/// DMA0011 (reported at the use, the Put being the additional location): "Put 'buf' after its last use"
/// (<c>DMA0011.PutAfterUse</c>) moves the statement that puts the reference (<c>buf.Put();</c>, or a call of a helper
/// that puts it) to just after the last statement of the same block that still uses the buffer. Only the moment of
/// the release moves: offered when the Put is a statement of its own, the use is in a later statement of that block,
/// no statement it moves past can leave the block (return, throw, break, continue, goto) or assign what the Put
/// reads, and the analyzers confirm that the move removes the diagnostic and adds none. A use on another path (the
/// next iteration of a loop, a helper called later) is left alone: holding the reference longer there is a design
/// decision.
/// <para>
/// "Read 'buf.Size' before the reference is put" (<c>DMA0011.ReadBeforePut</c>), for a use that reads a property
/// the buffer is given at export and never changes (<c>Size</c>, <c>PageCount</c>, <c>Flags</c>, <c>Id</c>): stores
/// that property in a local just before the statement of the block that puts (any statement: <c>err =
/// CacheMap(dmabuf, ...);</c>, an if around a Put) and reads the local instead, in the statements after it up to one
/// that writes the buffer variable. The value is the same and reading it has no effects, so only the moment of the
/// read moves. Offered for a local or parameter the statements involved do not write, that is not null there (by the
/// nullable analysis, or because the statement is its own <c>buf.Put();</c>), and when the analyzers confirm.
/// </para>
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UseAfterPutFixer))]
public sealed class UseAfterPutFixer : DmaBufFixer
{
    /// <inheritdoc />
    private protected override bool FixesWholeSolution => false;

    /// <summary>The equivalence key of "Put 'buf' after its last use".</summary>
    public const string PutAfterUseKey = "DMA0011.PutAfterUse";

    /// <summary>The equivalence key of "Read 'buf.Size' before the reference is put".</summary>
    public const string ReadBeforePutKey = "DMA0011.ReadBeforePut";

    /// <summary>The properties of a buffer fixed when it is exported: reading them earlier reads the same value.</summary>
    private static readonly ImmutableHashSet<string> FixedProperties = ImmutableHashSet.Create("Size", "PageCount", "Flags", "Id");

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(RuleIdentifiers.UseAfterPut);

    internal override string FixAllTitle(string equivalenceKey) =>
        equivalenceKey == ReadBeforePutKey ? "Read every fixed property before the reference is put" : "Put every reference after its last use";

    internal override async Task<IReadOnlyList<FixPlan>> PlanAsync(FixInput input, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        var plans = new List<FixPlan>();
        InvocationExpressionSyntax? put = input.Related.Length == 1 ? FixSyntax.InvocationAt(input.Related[0]) : null;
        if (put is null)
        {
            return plans;
        }

        if (await PutAfterUseAsync(input, diagnostic, put, cancellationToken).ConfigureAwait(false) is { } moved)
        {
            plans.Add(moved);
        }

        if (await ReadBeforePutAsync(input, diagnostic, put, cancellationToken).ConfigureAwait(false) is { } read)
        {
            plans.Add(read);
        }

        return plans;
    }

    private static async Task<FixPlan?> PutAfterUseAsync(FixInput input, Diagnostic diagnostic, InvocationExpressionSyntax put, CancellationToken cancellationToken)
    {
        SemanticModel model = input.Model;
        if (put.Parent is not ExpressionStatementSyntax putStatement || putStatement.Parent is not BlockSyntax block ||
            input.Primary.SpanStart < putStatement.Span.End ||
            FixSyntax.StatementIn(input.Primary, block) is not { } useStatement)
        {
            return null;
        }

        // What the Put reads (the buffer, the helper's arguments) must name the same values after the statements it moves past.
        var read = put.DescendantNodesAndSelf().OfType<IdentifierNameSyntax>()
            .Select(id => model.GetSymbolInfo(id, cancellationToken).Symbol)
            .Where(s => s is ILocalSymbol or IParameterSymbol or IFieldSymbol or IPropertySymbol)
            .Distinct<ISymbol?>(SymbolEqualityComparer.Default)
            .Cast<ISymbol>()
            .ToList();
        ISymbol? buffer = FixSyntax.Receiver(put) is { } receiver
            ? FixSyntax.ReceiverSymbol(model, receiver, cancellationToken)
            : put.ArgumentList.Arguments.Select(a => FixSyntax.ReceiverSymbol(model, a.Expression, cancellationToken)).FirstOrDefault(s => s is not null);
        if (buffer is null)
        {
            return null;
        }

        int from = block.Statements.IndexOf(putStatement);
        int use = block.Statements.IndexOf(useStatement);
        int last = -1;
        for (int i = from + 1; i < block.Statements.Count; i++)
        {
            StatementSyntax statement = block.Statements[i];
            if (LeavesBlock(statement) || FixSyntax.IsWrittenIn(new[] { statement }, buffer, model, cancellationToken) ||
                read.Any(s => FixSyntax.IsWrittenIn(new[] { statement }, s, model, cancellationToken)))
            {
                break;
            }

            if (FixSyntax.References(statement, buffer, model, cancellationToken).Any())
            {
                last = i;
            }
        }

        if (last < use)
        {
            return null;
        }

        StatementSyntax lastUse = block.Statements[last];
        Document document = input.Document;
        DocumentEditor editor = await DocumentEditor.CreateAsync(document, cancellationToken).ConfigureAwait(false);
        FixSyntax.RemoveStatementKeepingComments(editor, putStatement);
        editor.InsertAfter(lastUse, putStatement.WithoutLeadingTrivia()
            .WithLeadingTrivia(SyntaxFactory.ElasticMarker)
            .WithTrailingTrivia(putStatement.GetTrailingTrivia().Where(t => !FixSyntax.IsComment(t)).Prepend(SyntaxFactory.ElasticMarker))
            .WithAdditionalAnnotations(Formatter.Annotation));
        return await FixCheck.PlanIfFixesAsync(document, editor.GetChangedDocument(), diagnostic, $"Put '{buffer.Name}' after its last use", PutAfterUseKey, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>"Read 'buf.Size' before the reference is put": the plan, or null where the shape does not allow it.</summary>
    private static async Task<FixPlan?> ReadBeforePutAsync(FixInput input, Diagnostic diagnostic, InvocationExpressionSyntax put, CancellationToken cancellationToken)
    {
        SemanticModel model = input.Model;
        if (input.Primary.Parent is not MemberAccessExpressionSyntax { RawKind: (int)SyntaxKind.SimpleMemberAccessExpression } access ||
            access.Expression != input.Primary ||
            model.GetSymbolInfo(access, cancellationToken).Symbol is not IPropertySymbol { IsStatic: false, SetMethod: null } property ||
            !SymbolEqualityComparer.Default.Equals(property.ContainingType, input.Symbols.DmaBuffer) || !FixedProperties.Contains(property.Name) ||
            FixSyntax.ReceiverSymbol(model, access.Expression, cancellationToken) is not (ILocalSymbol { IsRef: false } or IParameterSymbol { RefKind: RefKind.None }) ||
            model.GetSymbolInfo(access.Expression, cancellationToken).Symbol is not { } buffer ||
            put.AncestorsAndSelf().OfType<StatementSyntax>().FirstOrDefault(st => st.Parent is BlockSyntax) is not { Parent: BlockSyntax block } putStatement ||
            putStatement is LabeledStatementSyntax || FixSyntax.Body(putStatement) != FixSyntax.Body(put) ||
            access.SpanStart < putStatement.Span.End ||
            FixSyntax.StatementIn(access, block) is not { } useStatement ||
            FixSyntax.Body(access) != FixSyntax.Body(putStatement))
        {
            return null;
        }

        // The buffer variable names the same buffer from the statement that puts to the use, and is not null there.
        int from = block.Statements.IndexOf(putStatement);
        int use = block.Statements.IndexOf(useStatement);
        if (FixSyntax.IsWrittenIn(block.Statements.Skip(from).Take(use - from + 1), buffer, model, cancellationToken) ||
            !IsNotNullAt(putStatement, buffer, model, cancellationToken))
        {
            return null;
        }

        // Every read of the property after the statement that puts, up to a statement that writes the variable.
        var reads = new List<MemberAccessExpressionSyntax>();
        for (int i = from + 1; i < block.Statements.Count; i++)
        {
            StatementSyntax statement = block.Statements[i];
            if (FixSyntax.IsWrittenIn(new[] { statement }, buffer, model, cancellationToken))
            {
                break;
            }

            reads.AddRange(FixSyntax.References(statement, buffer, model, cancellationToken)
                .Select(id => id.Parent)
                .OfType<MemberAccessExpressionSyntax>()
                .Where(m => m.Expression is IdentifierNameSyntax && FixSyntax.Body(m) == FixSyntax.Body(putStatement) &&
                    SymbolEqualityComparer.Default.Equals(model.GetSymbolInfo(m, cancellationToken).Symbol, property)));
        }

        string name = FixSyntax.UniqueName(model, putStatement, buffer.Name + property.Name);
        Document document = input.Document;
        DocumentEditor editor = await DocumentEditor.CreateAsync(document, cancellationToken).ConfigureAwait(false);
        SyntaxGenerator g = editor.Generator;
        var stored = (StatementSyntax)g.LocalDeclarationStatement(
            g.TypeExpression(property.Type).WithAdditionalAnnotations(Simplifier.Annotation), name, access.WithoutTrivia());
        editor.InsertBefore(putStatement, stored.WithAdditionalAnnotations(Formatter.Annotation));
        foreach (MemberAccessExpressionSyntax read in reads)
        {
            editor.ReplaceNode(read, SyntaxFactory.IdentifierName(name).WithTriviaFrom(read));
        }

        string title = $"Read '{buffer.Name}.{property.Name}' before the reference is put";
        return await FixCheck.PlanIfFixesAsync(document, editor.GetChangedDocument(), diagnostic, title, ReadBeforePutKey, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Whether <paramref name="buffer"/> is not null where <paramref name="statement"/> starts: the statement is its own
    /// <c>buf.Put();</c> (which would fail there first), or the nullable analysis says so at its first use in it.
    /// </summary>
    private static bool IsNotNullAt(StatementSyntax statement, ISymbol buffer, SemanticModel model, CancellationToken cancellationToken)
    {
        if (statement is ExpressionStatementSyntax { Expression: InvocationExpressionSyntax call } &&
            FixSyntax.Receiver(call) is { } receiver &&
            SymbolEqualityComparer.Default.Equals(FixSyntax.ReceiverSymbol(model, receiver, cancellationToken), buffer))
        {
            return true;
        }

        IdentifierNameSyntax? first = FixSyntax.References(statement, buffer, model, cancellationToken).FirstOrDefault();
        return first is not null && model.GetTypeInfo(first, cancellationToken).Nullability.FlowState == NullableFlowState.NotNull;
    }

    /// <summary>Whether control may leave the statement other than by falling through it (a local function or lambda aside).</summary>
    private static bool LeavesBlock(StatementSyntax statement) =>
        statement.DescendantNodesAndSelf(n => n is not (LocalFunctionStatementSyntax or AnonymousFunctionExpressionSyntax))
            .Any(n => n is ReturnStatementSyntax or ThrowStatementSyntax or ThrowExpressionSyntax or GotoStatementSyntax or YieldStatementSyntax ||
                (n is BreakStatementSyntax or ContinueStatementSyntax && !InnerLoopOrSwitch(n, statement)));

    /// <summary>Whether a break or continue only leaves a loop or switch inside <paramref name="statement"/>.</summary>
    private static bool InnerLoopOrSwitch(SyntaxNode jump, StatementSyntax statement) =>
        jump.Ancestors().TakeWhile(a => a != statement.Parent).Any(a => FixSyntax.IsLoop(a) || (a is SwitchStatementSyntax && jump is BreakStatementSyntax));
}
