// DMA0003 at one way out: "Unmap page N before this return" (DMA0003.UnmapBeforeExit) unmaps a mapping on the path the
// diagnostic names, where the mapping is unmapped on the other paths (an early return between kmap and kunmap, a
// break out of the loop that maps).
using System.Collections.Immutable;
using System.Threading;
using DmaBuf.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace DmaBuf.CodeFixes;

/// <summary>
/// DMA0003 (reported at the way out, the mapping being the additional location): "Unmap page N before this return"
/// (<c>DMA0003.UnmapBeforeExit</c>) inserts <c>buf.Kunmap(N, page)</c> (or <c>KunmapAtomic</c>) just before the
/// return or throw, before an end of CPU access or a Put of the same buffer there. For a mapping held in a local
/// that is not handed on, with a buffer and page that name the same values there, and only when the analyzers confirm that the unmap removes the diagnostic and adds none.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UnmatchedKmapAtExitFixer))]
public sealed class UnmatchedKmapAtExitFixer : ExitReleaseFixer
{
    /// <summary>The equivalence key of "Unmap page N before this return".</summary>
    public const string UnmapBeforeExitKey = "DMA0003.UnmapBeforeExit";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(RuleIdentifiers.UnmatchedKmap);

    internal override string FixAllTitle(string equivalenceKey) => "Unmap every page on the ways out that leave it mapped";

    internal override string EquivalenceKey => UnmapBeforeExitKey;

    internal override ReleaseAtExit? Describe(FixInput input, CancellationToken cancellationToken)
    {
        SemanticModel model = input.Model;
        MappingLocal? mapping = input.Related.Length == 1 ? MappingLocal.From(input.Related[0], model, input.Symbols, cancellationToken) : null;
        if (mapping is null || mapping.IsUsing || mapping.Escapes ||
            ExitRelease.Find(input, mapping.Statement) is not { } exit ||
            !exit.IsStable(mapping.Receiver, mapping.Call, model, cancellationToken) ||
            !exit.IsStable(mapping.PageArgument, mapping.Call, model, cancellationToken))
        {
            return null;
        }

        string call = mapping.Atomic ? "KunmapAtomic" : "Kunmap";
        StatementSyntax unmap = SyntaxFactory.ExpressionStatement(SyntaxFactory.InvocationExpression(
            SyntaxFactory.MemberAccessExpression(SyntaxKind.SimpleMemberAccessExpression, mapping.Receiver.WithoutTrivia(), SyntaxFactory.IdentifierName(call)),
            SyntaxFactory.ArgumentList(SyntaxFactory.SeparatedList(new[]
            {
                SyntaxFactory.Argument(mapping.PageArgument.WithoutTrivia()),
                SyntaxFactory.Argument(SyntaxFactory.IdentifierName(mapping.Local.Name)),
            }))));
        return new ReleaseAtExit(
            exit, unmap, $"Unmap page {mapping.PageArgument} {exit.Where}", new ISymbol[] { mapping.Local },
            s => UnendedCpuAccessAtExitFixer.IsReleaseOf(s, mapping.Receiver, "Put", "Detach", "EndCpuAccess"));
    }
}
