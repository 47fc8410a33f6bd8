// The fix of DMA0008 for an atomic kmap callback whose lock only guards one read of one field: read that field with
// Volatile.Read instead of taking the lock.
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
/// DMA0008 reported at a <c>lock</c> in an exporter's <c>KmapAtomic</c>/<c>KunmapAtomic</c>, where the lock's body
/// is <c>return E;</c> and <c>E</c> reads one field once (with constants, parameters, locals and readonly fields
/// around it, and no call): "Read '_memory' with Volatile.Read instead of locking" (<c>DMA0008.VolatileRead</c>)
/// replaces the lock with <c>return E;</c> reading that field by <c>Volatile.Read</c>. A single read of a field whose
/// reads and writes are atomic sees the value before or after any writer's locked section, exactly as under the lock:
/// so the fix needs the field to be a reference or a type <c>Volatile.Read</c> reads atomically, and no section locked
/// on the same object to write it more than once (where a reader outside the lock could see the value in between),
/// and no <c>ref</c> to it anywhere in the type.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(LockedFieldReadFixer))]
public sealed class LockedFieldReadFixer : DmaBufFixer
{
    /// <summary>The equivalence key of "Read 'field' with Volatile.Read instead of locking".</summary>
    public const string VolatileReadKey = "DMA0008.VolatileRead";

    // The types Volatile.Read has an overload for (besides any reference type).
    private static readonly ImmutableHashSet<SpecialType> VolatileTypes = ImmutableHashSet.Create(
        SpecialType.System_Boolean, SpecialType.System_Byte, SpecialType.System_SByte, SpecialType.System_Int16, SpecialType.System_UInt16,
        SpecialType.System_Int32, SpecialType.System_UInt32, SpecialType.System_Int64, SpecialType.System_UInt64, SpecialType.System_IntPtr,
        SpecialType.System_UIntPtr, SpecialType.System_Single, SpecialType.System_Double);

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(RuleIdentifiers.BlockingExporterAtomicCallback);

    internal override string FixAllTitle(string equivalenceKey) => "Read every singly locked field with Volatile.Read";

    internal override async Task<IReadOnlyList<FixPlan>> PlanAsync(FixInput input, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        var plans = new List<FixPlan>();
        SemanticModel model = input.Model;
        LockStatementSyntax? lockStatement = input.Primary.AncestorsAndSelf().OfType<LockStatementSyntax>().FirstOrDefault();
        if (lockStatement is null || lockStatement.LockKeyword.SpanStart != input.PrimarySpan.Start ||
            FixSyntax.HasEffects(lockStatement.Expression) ||
            FixSyntax.OnlyStatement(lockStatement.Statement) is not ReturnStatementSyntax { Expression: { } value } returned ||
            FixSyntax.HasEffects(value) ||
            FixSyntax.HasCommentBesides(lockStatement, lockStatement.GetLeadingTrivia().Concat(lockStatement.CloseParenToken.TrailingTrivia)) ||
            model.GetSymbolInfo(lockStatement.Expression, cancellationToken).Symbol is not { } gate ||
            lockStatement.FirstAncestorOrSelf<TypeDeclarationSyntax>() is not { } type)
        {
            return plans;
        }

        if (SingleFieldRead(value, model, cancellationToken) is not { } read || !IsSafeToReadAlone(read.Field, gate, type, model, cancellationToken))
        {
            return plans;
        }

        Document document = input.Document;
        ExpressionSyntax volatileRead = SyntaxFactory.InvocationExpression(
                SyntaxFactory.ParseExpression("global::System.Threading.Volatile.Read"),
                SyntaxFactory.ArgumentList(SyntaxFactory.SingletonSeparatedList(
                    SyntaxFactory.Argument(null, SyntaxFactory.Token(SyntaxKind.RefKeyword), read.Node.WithoutTrivia()))))
            .WithTriviaFrom(read.Node)
            .WithAdditionalAnnotations(Simplifier.Annotation);
        ReturnStatementSyntax unlocked = returned
            .ReplaceNode(read.Node, volatileRead)
            .WithLeadingTrivia(lockStatement.GetLeadingTrivia())
            .WithAdditionalAnnotations(Formatter.Annotation);
        SyntaxTriviaList kept = lockStatement.CloseParenToken.TrailingTrivia;
        if (kept.Any(FixSyntax.IsComment))
        {
            unlocked = unlocked.WithTrailingTrivia(SyntaxFactory.TriviaList(SyntaxFactory.Space).AddRange(kept.SkipWhile(t => t.IsKind(SyntaxKind.WhitespaceTrivia))));
        }

        string title = $"Read '{read.Field.Name}' with Volatile.Read instead of locking";
        plans.Add(new FixPlan(title, VolatileReadKey, async ct =>
        {
            DocumentEditor editor = await DocumentEditor.CreateAsync(document, ct).ConfigureAwait(false);
            editor.ReplaceNode(lockStatement, unlocked);
            Document edited = await ImportAdder.AddImportsAsync(editor.GetChangedDocument(), Simplifier.Annotation, cancellationToken: ct).ConfigureAwait(false);
            edited = await Simplifier.ReduceAsync(edited, Simplifier.Annotation, cancellationToken: ct).ConfigureAwait(false);
            return await Formatter.FormatAsync(edited, Formatter.Annotation, cancellationToken: ct).ConfigureAwait(false);
        }));
        return plans;
    }

    /// <summary>
    /// The one read of a non-readonly field in <paramref name="value"/>, when the rest reads only constants, parameters,
    /// locals and readonly fields; null otherwise (two field reads, a property, an element access).
    /// </summary>
    private static (IFieldSymbol Field, ExpressionSyntax Node)? SingleFieldRead(ExpressionSyntax value, SemanticModel model, CancellationToken cancellationToken)
    {
        (IFieldSymbol Field, ExpressionSyntax Node)? found = null;
        foreach (SyntaxNode node in value.DescendantNodesAndSelf())
        {
            if (node is ElementAccessExpressionSyntax or ConditionalAccessExpressionSyntax)
            {
                return null;
            }

            if (node is not SimpleNameSyntax name || model.GetConstantValue(name, cancellationToken).HasValue)
            {
                continue;
            }

            ISymbol? symbol = model.GetSymbolInfo(name, cancellationToken).Symbol;
            switch (symbol)
            {
                case ILocalSymbol or IParameterSymbol or INamespaceOrTypeSymbol or IFieldSymbol { IsReadOnly: true } or IFieldSymbol { IsConst: true }:
                    continue;
                case IFieldSymbol { IsVolatile: false } field when found is null && IsVolatileReadable(field.Type):
                    ExpressionSyntax whole = name.Parent is MemberAccessExpressionSyntax access && access.Name == name ? access : name;
                    if (whole is MemberAccessExpressionSyntax { Expression: not ThisExpressionSyntax } && !field.IsStatic)
                    {
                        return null;
                    }

                    found = (field, whole);
                    continue;
                default:
                    return null;
            }
        }

        return found;
    }

    private static bool IsVolatileReadable(ITypeSymbol type) =>
        type.IsReferenceType || VolatileTypes.Contains(type.SpecialType);

    /// <summary>
    /// Whether a lone read of <paramref name="field"/> sees what a read under <paramref name="gate"/> sees: no section
    /// of the type locked on that object writes it twice or in a loop, and nothing takes a <c>ref</c> to it.
    /// </summary>
    private static bool IsSafeToReadAlone(IFieldSymbol field, ISymbol gate, TypeDeclarationSyntax type, SemanticModel model, CancellationToken cancellationToken)
    {
        if (field.DeclaringSyntaxReferences.Length != 1 || type.SyntaxTree != field.DeclaringSyntaxReferences[0].SyntaxTree ||
            (field.ContainingType is { } owner && owner.DeclaringSyntaxReferences.Length != 1))
        {
            return false;
        }

        foreach (IdentifierNameSyntax id in FixSyntax.References(type, field, model, cancellationToken))
        {
            SyntaxNode use = id.Parent is MemberAccessExpressionSyntax access && access.Name == id ? access : id;
            if (use.Parent is ArgumentSyntax { RefKindKeyword.RawKind: not (int)SyntaxKind.None })
            {
                return false;
            }
        }

        foreach (LockStatementSyntax section in type.DescendantNodes().OfType<LockStatementSyntax>())
        {
            if (!SymbolEqualityComparer.Default.Equals(model.GetSymbolInfo(section.Expression, cancellationToken).Symbol, gate))
            {
                continue;
            }

            var writes = FixSyntax.References(section, field, model, cancellationToken).Where(FixSyntax.IsWrite).ToList();
            if (writes.Count > 1 || writes.Any(w => FixSyntax.IsInLoopOrFunctionBelow(w, section)))
            {
                return false;
            }
        }

        return true;
    }
}
