// DMA0010 at one way out: "Put 'b' before this return" (DMA0010.PutBeforeExit) puts the reference on the path the
// diagnostic names, where the reference is held in a local and dropped early (an early return, a throw after a check).
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using DmaBuf.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace DmaBuf.CodeFixes;

/// <summary>
/// DMA0010 (reported at the way out, the Export or Get, or the call of a method of the compilation that returns a
/// reference, being the additional location): "Put 'b' before this return"
/// (<c>DMA0010.PutBeforeExit</c>) inserts <c>b.Put();</c> just before the return or throw (or at the end of the body),
/// computing a returned value that reads the buffer or has effects into a local first. For a reference stored in a
/// local, and only when the analyzers confirm
/// that the Put removes the diagnostic and adds none (no path that put it already, or handed it away, reaches there).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UnputReferenceAtExitFixer))]
public sealed class UnputReferenceAtExitFixer : ExitReleaseFixer
{
    /// <summary>The equivalence key of "Put 'b' before this return".</summary>
    public const string PutBeforeExitKey = "DMA0010.PutBeforeExit";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(RuleIdentifiers.UnputBufferReference);

    internal override string FixAllTitle(string equivalenceKey) => "Put every reference on the ways out that drop it";

    internal override string EquivalenceKey => PutBeforeExitKey;

    internal override ReleaseAtExit? Describe(FixInput input, CancellationToken cancellationToken)
    {
        InvocationExpressionSyntax? acquire = input.Related.Length == 1 ? FixSyntax.InvocationAt(input.Related[0]) : null;
        if (acquire is null || !FixSyntax.TakesReference(input, acquire, cancellationToken) ||
            FixSyntax.StoredLocal(acquire, input.Model, cancellationToken) is not { } stored ||
            ExitRelease.Find(input, stored.Statement) is not { } exit)
        {
            return null;
        }

        StatementSyntax put = SyntaxFactory.ParseStatement($"{stored.Name.ValueText}.Put();");
        return new ReleaseAtExit(exit, put, $"Put '{stored.Name.ValueText}' {exit.Where}", new ISymbol[] { stored.Local });
    }
}
