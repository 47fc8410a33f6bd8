// DMA0012 at one way out: "Vunmap before this return" (DMA0012.VunmapBeforeExit) gives back a vmap on the path the
// diagnostic names (an early return between the Vmap and its Vunmap, a failed begin after the vmap).
using System.Collections.Immutable;
using System.Threading;
using DmaBuf.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace DmaBuf.CodeFixes;

/// <summary>
/// DMA0012 (a vmap not vunmapped on some way out, reported there, the Vmap being the additional location): "Vunmap
/// before this return" (<c>DMA0012.VunmapBeforeExit</c>) inserts <c>buf.Vunmap(map)</c> just before the return or
/// throw, after an end of CPU access there (as the kernel orders them: end, then vunmap) and before a Put of the same buffer. For a vmap held in a local that is not handed
/// on, with a buffer that names the same value there, and only when the analyzers confirm that the vunmap removes the
/// diagnostic and adds none. A second vunmap or one through another buffer gets no fix: which of the two calls is
/// wrong is the author's decision.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UnmatchedVmapAtExitFixer))]
public sealed class UnmatchedVmapAtExitFixer : ExitReleaseFixer
{
    /// <inheritdoc />
    private protected override bool FixesWholeSolution => true;

    /// <summary>The equivalence key of "Vunmap before this return".</summary>
    public const string VunmapBeforeExitKey = "DMA0012.VunmapBeforeExit";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(RuleIdentifiers.UnmatchedVmap);

    internal override string FixAllTitle(string equivalenceKey) => "Vunmap on every way out that leaves a vmap";

    internal override string EquivalenceKey => VunmapBeforeExitKey;

    internal override ReleaseAtExit? Describe(FixInput input, CancellationToken cancellationToken)
    {
        SemanticModel model = input.Model;
        MappingLocal? mapping = input.Related.Length == 1 ? MappingLocal.From(input.Related[0], model, input.Symbols, cancellationToken, allowVmap: true) : null;
        if (mapping is null || !mapping.IsVmap || mapping.IsUsing || mapping.Escapes ||
            ExitRelease.Find(input, mapping.Statement) is not { } exit ||
            !exit.IsStable(mapping.Receiver, mapping.Call, model, cancellationToken))
        {
            return null;
        }

        StatementSyntax vunmap = SyntaxFactory.ExpressionStatement(SyntaxFactory.InvocationExpression(
            SyntaxFactory.MemberAccessExpression(SyntaxKind.SimpleMemberAccessExpression, mapping.Receiver.WithoutTrivia(), SyntaxFactory.IdentifierName("Vunmap")),
            SyntaxFactory.ArgumentList(SyntaxFactory.SingletonSeparatedList(SyntaxFactory.Argument(SyntaxFactory.IdentifierName(mapping.Local.Name))))));
        return new ReleaseAtExit(
            exit, vunmap, $"Vunmap {mapping.Local.Name} {exit.Where}", new ISymbol[] { mapping.Local },
            s => UnendedCpuAccessAtExitFixer.IsReleaseOf(s, mapping.Receiver, "Put", "Detach"));
    }
}
