// The fix of DMA0011's foreign Detach: detach from the buffer the attachment was made on.
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
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Editing;

namespace DmaBuf.CodeFixes;

/// <summary>
/// DMA0011, the Detach of an attachment made on another buffer (<c>properties["Kind"]</c> is <c>ForeignDetach</c>; the
/// Attach is the additional location): "Detach from the buffer it was attached to" (<c>DMA0011.DetachFromOwner</c>)
/// makes the Detach's receiver the local the Attach was called on: <c>b2.Detach(a)</c> becomes <c>b1.Detach(a)</c>.
/// The original call can only throw, so the fix changes no working behaviour. Only where the Attach's receiver is a
/// local that the Detach sees (the same symbol in scope there) and that is not written between the two calls, and the
/// attachment is a local that no other Detach in the method detaches (else the slip may be the attachment, not the
/// buffer). A use
/// after the last put (<c>UseAfterPut</c>) gets no fix: where the put belongs depends on what the code means to do.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(ForeignDetachFixer))]
public sealed class ForeignDetachFixer : DmaBufFixer
{
    /// <summary>The equivalence key of "Detach from the buffer it was attached to".</summary>
    public const string DetachFromOwnerKey = "DMA0011.DetachFromOwner";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(RuleIdentifiers.UseAfterPut);

    internal override string FixAllTitle(string equivalenceKey) => "Detach every attachment from the buffer it was attached to";

    internal override Task<IReadOnlyList<FixPlan>> PlanAsync(FixInput input, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        var plans = new List<FixPlan>();
        SemanticModel model = input.Model;
        diagnostic.Properties.TryGetValue(FlowRule.KindProperty, out string? kind);
        InvocationExpressionSyntax? detach = FixSyntax.InvocationAt(input.Primary);
        InvocationExpressionSyntax? attach = input.Related.Length == 1 ? FixSyntax.InvocationAt(input.Related[0]) : null;
        if (kind != UseAfterPutRule.ForeignDetach || detach is null || attach is null ||
            !FixSyntax.Is(model, detach, input.Symbols.Detach, cancellationToken) || !FixSyntax.Is(model, attach, input.Symbols.Attach, cancellationToken) ||
            FixSyntax.Receiver(detach) is not { } wrong || FixSyntax.Receiver(attach) is not IdentifierNameSyntax owner ||
            model.GetSymbolInfo(owner, cancellationToken).Symbol is not ILocalSymbol local ||
            !SymbolEqualityComparer.Default.Equals(model.LookupSymbols(detach.SpanStart, name: local.Name).FirstOrDefault(), local) ||
            FixSyntax.Body(detach) is not { } body || FixSyntax.Body(attach) != body ||
            IsWrittenBetween(body, local, attach, detach, model, cancellationToken) ||
            DetachedElsewhere(body, detach, model, input.Symbols, cancellationToken))
        {
            return Done(plans);
        }

        Document document = input.Document;
        plans.Add(new FixPlan($"Detach from '{local.Name}', the buffer it was attached to", DetachFromOwnerKey, async ct =>
        {
            DocumentEditor editor = await DocumentEditor.CreateAsync(document, ct).ConfigureAwait(false);
            editor.ReplaceNode(wrong, owner.WithoutTrivia().WithTriviaFrom(wrong));
            return editor.GetChangedDocument();
        }));
        return Done(plans);
    }

    /// <summary>
    /// Whether the attachment is detached by another call too: then the wrong receiver may be a slip for another
    /// attachment (<c>b2.Detach(a)</c> meant as <c>b2.Detach(c)</c>), and moving this call to the owner would detach
    /// the attachment twice.
    /// </summary>
    private static bool DetachedElsewhere(SyntaxNode body, InvocationExpressionSyntax detach, SemanticModel model, KnownSymbols symbols, CancellationToken cancellationToken)
    {
        if (detach.ArgumentList.Arguments.Count != 1 || detach.ArgumentList.Arguments[0].Expression is not IdentifierNameSyntax argument ||
            model.GetSymbolInfo(argument, cancellationToken).Symbol is not ILocalSymbol attachment)
        {
            return true;
        }

        return FixSyntax.References(body, attachment, model, cancellationToken).Any(id =>
            id.Parent is ArgumentSyntax { Parent: ArgumentListSyntax { Parent: InvocationExpressionSyntax call } } &&
            call != detach && FixSyntax.Is(model, call, symbols.Detach, cancellationToken));
    }

    private static bool IsWrittenBetween(SyntaxNode body, ILocalSymbol local, SyntaxNode from, SyntaxNode to, SemanticModel model, CancellationToken cancellationToken) =>
        FixSyntax.References(body, local, model, cancellationToken).Any(id => id.SpanStart > from.Span.End && id.SpanStart < to.SpanStart && FixSyntax.IsWrite(id));
}
