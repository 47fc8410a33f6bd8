// The base of every code fix provider: one fix plan per diagnostic, the Fix All that applies them in turn, and the
// scopes a fix supports. Providers carry no System.Composition [Shared]: hosts create an analyzer package's providers
// by reflection, and the attribute would tie DmaBuf.CodeFixes.dll to a System.Composition version a host may not have.
using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using DmaBuf.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace DmaBuf.CodeFixes;

/// <summary>One fix a provider can apply to one diagnostic: its title, its equivalence key and how to apply it.</summary>
internal sealed class FixPlan
{
    public FixPlan(string title, string equivalenceKey, Func<CancellationToken, Task<Document>> apply)
    {
        Title = title;
        EquivalenceKey = equivalenceKey;
        Apply = apply;
    }

    public string Title { get; }

    public string EquivalenceKey { get; }

    public Func<CancellationToken, Task<Document>> Apply { get; }
}

/// <summary>What a provider sees of one diagnostic: the document, its model, and the nodes at the diagnostic's locations.</summary>
internal sealed class FixInput
{
    private FixInput(Document document, SyntaxNode root, SemanticModel model, KnownSymbols symbols, TextSpan primarySpan, SyntaxNode primary, ImmutableArray<SyntaxNode> related)
    {
        Document = document;
        Root = root;
        Model = model;
        Symbols = symbols;
        PrimarySpan = primarySpan;
        Primary = primary;
        Related = related;
    }

    public Document Document { get; }

    public SyntaxNode Root { get; }

    public SemanticModel Model { get; }

    public KnownSymbols Symbols { get; }

    /// <summary>The diagnostic's own span (for DMA0001 and DMA0003 the way out: a return, a throw or a closing brace).</summary>
    public TextSpan PrimarySpan { get; }

    /// <summary>The innermost node covering <see cref="PrimarySpan"/>.</summary>
    public SyntaxNode Primary { get; }

    /// <summary>The nodes at the additional locations in the same document (the begin, the mapping...).</summary>
    public ImmutableArray<SyntaxNode> Related { get; }

    public static async Task<FixInput?> CreateAsync(Document document, TextSpan primarySpan, IEnumerable<TextSpan> relatedSpans, CancellationToken cancellationToken)
    {
        SyntaxNode? root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        SemanticModel? model = await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false);
        if (root is null || model is null || !root.FullSpan.Contains(primarySpan))
        {
            return null;
        }

        KnownSymbols? symbols = KnownSymbols.Create(model.Compilation);
        if (symbols is null)
        {
            return null;
        }

        SyntaxNode primary = root.FindNode(primarySpan, getInnermostNodeForTie: true);
        var related = ImmutableArray.CreateBuilder<SyntaxNode>();
        foreach (TextSpan span in relatedSpans)
        {
            if (root.FullSpan.Contains(span))
            {
                related.Add(root.FindNode(span, getInnermostNodeForTie: true));
            }
        }

        return new FixInput(document, root, model, symbols, primarySpan, primary, related.ToImmutable());
    }

    /// <summary>The spans of a diagnostic's additional locations that lie in the diagnostic's own tree.</summary>
    public static IEnumerable<TextSpan> RelatedSpans(Diagnostic diagnostic) =>
        diagnostic.AdditionalLocations
            .Where(l => l.IsInSource && l.SourceTree == diagnostic.Location.SourceTree)
            .Select(l => l.SourceSpan);
}

/// <summary>
/// The base of every provider: turns each diagnostic into zero or more <see cref="FixPlan"/>s (a plan is only made
/// where the fix is safe for the shape at hand) and fixes all of them one after another.
/// </summary>
public abstract class DmaBufFixer : CodeFixProvider
{
    internal abstract Task<IReadOnlyList<FixPlan>> PlanAsync(FixInput input, Diagnostic diagnostic, CancellationToken cancellationToken);

    /// <summary>The plans made, as the task <see cref="PlanAsync"/> returns.</summary>
    private protected static Task<IReadOnlyList<FixPlan>> Done(List<FixPlan> plans) => Task.FromResult<IReadOnlyList<FixPlan>>(plans);

    /// <summary>A title for the Fix All action with <paramref name="equivalenceKey"/>.</summary>
    internal abstract string FixAllTitle(string equivalenceKey);

    /// <summary>
    /// The plans of <see cref="PlanAsync"/>, less what no provider may do: end, in the method that maps it, a CPU access
    /// whose mapping the method hands on (DMA0001): the access must last as long as the mapping.
    /// </summary>
    private async Task<IReadOnlyList<FixPlan>> PlansAsync(FixInput input, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        if (diagnostic.Id == RuleIdentifiers.UnendedCpuAccess && FixSyntax.Body(input.Primary) is { } body)
        {
            InvocationExpressionSyntax? begin = input.Related.Length == 1 ? FixSyntax.InvocationAt(input.Related[0]) : null;
            ExpressionSyntax? receiver = begin is not null && CpuAccessCall.IsBegin(input.Model, input.Symbols, begin, cancellationToken) ? FixSyntax.Receiver(begin) : null;
            ISymbol? buffer = receiver is null ? null : FixSyntax.ReceiverSymbol(input.Model, receiver, cancellationToken);
            if (KeptMapping.IsKeptIn(body, buffer, input.Model, input.Symbols, cancellationToken))
            {
                return System.Array.Empty<FixPlan>();
            }
        }

        return await PlanAsync(input, diagnostic, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public sealed override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            FixInput? input = await FixInput.CreateAsync(context.Document, diagnostic.Location.SourceSpan, FixInput.RelatedSpans(diagnostic), context.CancellationToken).ConfigureAwait(false);
            if (input is null)
            {
                continue;
            }

            foreach (FixPlan plan in await PlansAsync(input, diagnostic, context.CancellationToken).ConfigureAwait(false))
            {
                context.RegisterCodeFix(CodeAction.Create(plan.Title, plan.Apply, plan.EquivalenceKey), diagnostic);
            }
        }
    }

    /// <inheritdoc />
    public override FixAllProvider GetFixAllProvider() => new SequentialFixAllProvider(this);

    /// <summary>
    /// Whether Fix All is offered for the whole solution: by the first fix of each rule only. A host that fixes a
    /// solution in one batch (<c>dotnet format</c>) runs every provider of a rule over one analysis, which breaks as
    /// soon as two of them change the code; the other fixes of a rule are offered in the editor, with Fix All in a
    /// document or project.
    /// </summary>
    private protected virtual bool FixesWholeSolution => true;

    /// <summary>
    /// Fixes the diagnostics of a document one at a time, each on the document as the previous fixes left it.
    /// Several diagnostics often share one cause (a begin reported at every way out, a mapping reported at every
    /// return), and the fixes rewrite whole blocks around each other, so merging independently computed text changes
    /// (the batch fixer) would duplicate or drop edits. Each plan looks at the code afresh and declines what an
    /// earlier fix already repaired; the nodes of every diagnostic are tracked through the edits.
    /// </summary>
    internal async Task<Document> FixDocumentAsync(Document document, ImmutableArray<Diagnostic> diagnostics, string? equivalenceKey, CancellationToken cancellationToken)
    {
        SyntaxNode? root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null || diagnostics.IsEmpty)
        {
            return document;
        }

        var found = new List<(Diagnostic Diagnostic, SyntaxNode Primary, (int Offset, int Length, bool FromEnd) Offset, List<SyntaxNode> Related)>();
        foreach (Diagnostic diagnostic in diagnostics.OrderBy(d => d.Location.SourceSpan.Start))
        {
            if (!root.FullSpan.Contains(diagnostic.Location.SourceSpan))
            {
                continue;
            }

            SyntaxNode primary = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true);
            var related = FixInput.RelatedSpans(diagnostic).Where(s => root.FullSpan.Contains(s)).Select(s => root.FindNode(s, getInnermostNodeForTie: true)).ToList();
            // Where the diagnostic sits in its node, counted from the node's end when it ends there (a closing
            // brace), so that edits inside the node do not move it.
            TextSpan span = diagnostic.Location.SourceSpan;
            bool fromEnd = span.End == primary.Span.End && span != primary.Span;
            (int Offset, int Length, bool FromEnd) offset = fromEnd
                ? (primary.Span.End - span.Start, span.Length, true)
                : (span.Start - primary.SpanStart, span.Length, false);
            found.Add((diagnostic, primary, offset, related));
        }

        SyntaxNode tracked = root.TrackNodes(found.SelectMany(f => f.Related.Prepend(f.Primary)).Distinct());
        Document current = document.WithSyntaxRoot(tracked);
        foreach (var item in found)
        {
            cancellationToken.ThrowIfCancellationRequested();
            SyntaxNode? currentRoot = await current.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
            SyntaxNode? primary = currentRoot is null ? null : CurrentNode(currentRoot, item.Primary);
            if (currentRoot is null || primary is null)
            {
                continue;
            }

            var relatedSpans = new List<TextSpan>();
            foreach (SyntaxNode node in item.Related)
            {
                SyntaxNode? now = CurrentNode(currentRoot, node);
                if (now is not null)
                {
                    relatedSpans.Add(now.Span);
                }
            }

            if (relatedSpans.Count != item.Related.Count)
            {
                continue;
            }

            int start = item.Offset.FromEnd ? primary.Span.End - item.Offset.Offset : primary.SpanStart + item.Offset.Offset;
            TextSpan primarySpan = start >= 0 && start + item.Offset.Length <= currentRoot.FullSpan.End ? new TextSpan(start, item.Offset.Length) : primary.Span;
            FixInput? input = await FixInput.CreateAsync(current, primarySpan, relatedSpans, cancellationToken).ConfigureAwait(false);
            if (input is null)
            {
                continue;
            }

            IReadOnlyList<FixPlan> plans = await PlansAsync(input, item.Diagnostic, cancellationToken).ConfigureAwait(false);
            FixPlan? plan = plans.FirstOrDefault(p => equivalenceKey is null || p.EquivalenceKey == equivalenceKey);
            if (plan is not null)
            {
                current = await plan.Apply(cancellationToken).ConfigureAwait(false);
            }
        }

        return current;
    }

    /// <summary>
    /// Where a tracked node is now, or null when it is gone or an earlier fix copied it (a statement moved into a new
    /// block and kept in the old one for a moment): a diagnostic whose node is ambiguous is left to its own fix.
    /// </summary>
    private static SyntaxNode? CurrentNode(SyntaxNode root, SyntaxNode node)
    {
        SyntaxNode? found = null;
        foreach (SyntaxNode current in root.GetCurrentNodes(node))
        {
            if (found is not null)
            {
                return null;
            }

            found = current;
        }

        return found;
    }

    private sealed class SequentialFixAllProvider : FixAllProvider
    {
        private readonly DmaBufFixer _fixer;

        public SequentialFixAllProvider(DmaBufFixer fixer) => _fixer = fixer;

        public override IEnumerable<FixAllScope> GetSupportedFixAllScopes() =>
            _fixer.FixesWholeSolution
                ? new[] { FixAllScope.Document, FixAllScope.Project, FixAllScope.Solution }
                : new[] { FixAllScope.Document, FixAllScope.Project };

        public override Task<CodeAction?> GetFixAsync(FixAllContext fixAllContext)
        {
            string key = fixAllContext.CodeActionEquivalenceKey ?? string.Empty;
            CodeAction action = CodeAction.Create(
                _fixer.FixAllTitle(key),
                cancellationToken => FixAllAsync(fixAllContext, cancellationToken),
                fixAllContext.CodeActionEquivalenceKey);
            return Task.FromResult<CodeAction?>(action);
        }

        private async Task<Solution> FixAllAsync(FixAllContext context, CancellationToken cancellationToken)
        {
            IEnumerable<Document> documents = context.Scope switch
            {
                FixAllScope.Document when context.Document is not null => new[] { context.Document },
                FixAllScope.Project => context.Project.Documents,
                FixAllScope.Solution => context.Solution.Projects.SelectMany(p => p.Documents),
                _ => context.Document is null ? Enumerable.Empty<Document>() : new[] { context.Document },
            };

            Solution solution = context.Solution;
            var byProject = new Dictionary<ProjectId, ImmutableArray<Diagnostic>>();
            foreach (Document document in documents.ToList())
            {
                ImmutableArray<Diagnostic> diagnostics = await DiagnosticsOf(context, document, byProject, cancellationToken).ConfigureAwait(false);
                if (diagnostics.IsEmpty)
                {
                    continue;
                }

                Document fixedDocument = await _fixer.FixDocumentAsync(document, diagnostics, context.CodeActionEquivalenceKey, cancellationToken).ConfigureAwait(false);
                SyntaxNode? newRoot = await fixedDocument.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);

                // A document no plan changed is left as it was, not as a tree carrying the tracking annotations: a
                // host that runs several providers over one analysis (dotnet format) keys its diagnostics by the
                // solution's projects, and an untouched solution must stay the same solution for the next provider.
                if (newRoot is not null && fixedDocument != document &&
                    !(await fixedDocument.GetTextAsync(cancellationToken).ConfigureAwait(false)).ContentEquals(await document.GetTextAsync(cancellationToken).ConfigureAwait(false)))
                {
                    solution = solution.WithDocumentSyntaxRoot(document.Id, newRoot);
                }
            }

            return solution;
        }

        /// <summary>
        /// The diagnostics to fix in one document. For a project or the solution they are asked of the project, once,
        /// and split by tree: a host that analyzes whole projects (<c>dotnet format</c>) answers only project queries.
        /// </summary>
        private static async Task<ImmutableArray<Diagnostic>> DiagnosticsOf(FixAllContext context, Document document, Dictionary<ProjectId, ImmutableArray<Diagnostic>> byProject, CancellationToken cancellationToken)
        {
            if (context.Scope == FixAllScope.Document)
            {
                return await context.GetDocumentDiagnosticsAsync(document).ConfigureAwait(false);
            }

            if (!byProject.TryGetValue(document.Project.Id, out ImmutableArray<Diagnostic> all))
            {
                all = await context.GetAllDiagnosticsAsync(document.Project).ConfigureAwait(false);
                byProject[document.Project.Id] = all;
            }

            SyntaxTree? tree = await document.GetSyntaxTreeAsync(cancellationToken).ConfigureAwait(false);
            return all.Where(d => d.Location.SourceTree == tree).ToImmutableArray();
        }
    }
}
