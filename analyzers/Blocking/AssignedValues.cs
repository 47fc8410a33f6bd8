// The values written to the variables of one member body, for the blocking analysis to follow a receiver or an
// argument back to where it was made.
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace DmaBuf.Analyzers.Blocking;

// Which values a local, a parameter or a field is given inside one member body: the index behind "the delegate this
// local refers to", "what this writer local may be", "is this bool parameter ever changed", "what this constructor
// stores in that field". One walk per body, cached.

/// <summary>The values written to the locals, parameters and fields of one member body (lambdas and local functions included).</summary>
internal sealed class BodyWrites
{
    private readonly Dictionary<ISymbol, List<IOperation?>> _writes;

    private BodyWrites(Dictionary<ISymbol, List<IOperation?>> writes) => _writes = writes;

    /// <summary>
    /// The values written to <paramref name="symbol"/> in the body, the initializer of a local or field included;
    /// a null entry is a write whose value is not known (by reference, deconstruction, compound assignment).
    /// Empty when it is never written.
    /// </summary>
    public IReadOnlyList<IOperation?> Of(ISymbol symbol) =>
        _writes.TryGetValue(symbol, out List<IOperation?>? values) ? values : (IReadOnlyList<IOperation?>)System.Array.Empty<IOperation?>();

    /// <summary>The instance-field writes of the body (<c>this.f = ...</c> or <c>f = ...</c>) of <paramref name="field"/>.</summary>
    public IReadOnlyList<IOperation?> OfField(IFieldSymbol field) => Of(field.OriginalDefinition);

    public static BodyWrites Build(IOperation root, CancellationToken cancellationToken)
    {
        var writes = new Dictionary<ISymbol, List<IOperation?>>(SymbolEqualityComparer.Default);
        void Add(ISymbol? symbol, IOperation? value)
        {
            if (symbol is null)
            {
                return;
            }

            if (!writes.TryGetValue(symbol, out List<IOperation?>? list))
            {
                list = new List<IOperation?>();
                writes.Add(symbol, list);
            }

            list.Add(value);
        }

        var stack = new Stack<IOperation>();
        stack.Push(root);
        while (stack.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            IOperation current = stack.Pop();
            switch (current)
            {
                case IVariableDeclaratorOperation declarator:
                    {
                        IOperation? initial = declarator.Initializer?.Value ?? (declarator.Parent as IVariableDeclarationOperation)?.Initializer?.Value;
                        if (initial is not null)
                        {
                            Add(declarator.Symbol, initial);
                        }

                        break;
                    }

                case IFieldInitializerOperation fieldInitializer:
                    foreach (IFieldSymbol field in fieldInitializer.InitializedFields)
                    {
                        Add(field.OriginalDefinition, fieldInitializer.Value);
                    }

                    break;
                case ISimpleAssignmentOperation assignment:
                    Add(Target(assignment.Target), assignment.Value);
                    break;
                case ICompoundAssignmentOperation compound:
                    Add(Target(compound.Target), null);
                    break;
                case ICoalesceAssignmentOperation coalesce:
                    Add(Target(coalesce.Target), coalesce.Value);
                    break;
                case IIncrementOrDecrementOperation increment:
                    Add(Target(increment.Target), null);
                    break;
                case IDeconstructionAssignmentOperation deconstruction:
                    foreach (IOperation target in deconstruction.Target.DescendantsAndSelf())
                    {
                        Add(Target(target), null);
                    }

                    break;
                case IArgumentOperation { Parameter.RefKind: RefKind.Ref or RefKind.Out } byReference:
                    Add(Target(byReference.Value), null);
                    break;
                case IDeclarationExpressionOperation declaration:
                    foreach (IOperation target in declaration.DescendantsAndSelf())
                    {
                        Add(Target(target), null);
                    }

                    break;
            }

            foreach (IOperation child in current.ChildOperations)
            {
                stack.Push(child);
            }
        }

        return new BodyWrites(writes);
    }

    /// <summary>The symbol an assignment target names: a local, a parameter, or a field of <c>this</c> (or a static one).</summary>
    private static ISymbol? Target(IOperation target) => target switch
    {
        ILocalReferenceOperation local => local.Local,
        IParameterReferenceOperation parameter => parameter.Parameter,
        IFieldReferenceOperation { Instance: null or IInstanceReferenceOperation } field => field.Field.OriginalDefinition,
        _ => null,
    };
}

/// <summary>One <see cref="BodyWrites"/> per member body, found from any operation or symbol inside it.</summary>
internal sealed class AssignedValues
{
    private readonly ConcurrentDictionary<SyntaxNode, BodyWrites> _bodies = new();
    private readonly SemanticModels _models;

    public AssignedValues(SemanticModels models) => _models = models;

    /// <summary>The writes of the body that contains <paramref name="operation"/> (the root of its operation tree).</summary>
    public BodyWrites ForOperation(IOperation operation, CancellationToken cancellationToken)
    {
        IOperation root = operation;
        while (root.Parent is not null)
        {
            root = root.Parent;
        }

        return _bodies.GetOrAdd(root.Syntax, _ => BodyWrites.Build(root, cancellationToken));
    }

    /// <summary>The writes of the body that declares <paramref name="local"/>, or null when it is not in the compilation.</summary>
    public BodyWrites? ForLocal(ILocalSymbol local, CancellationToken cancellationToken)
    {
        foreach (SyntaxReference reference in local.DeclaringSyntaxReferences)
        {
            if (_models.Get(reference.SyntaxTree) is { } model && model.GetOperation(reference.GetSyntax(cancellationToken), cancellationToken) is { } operation)
            {
                return ForOperation(operation, cancellationToken);
            }
        }

        return null;
    }

    /// <summary>The writes of a member's own body roots (a constructor's body, a method's body).</summary>
    public BodyWrites? ForRoot(IOperation? root, CancellationToken cancellationToken) =>
        root is null ? null : ForOperation(root, cancellationToken);

    /// <summary>
    /// The one value ever assigned to <paramref name="local"/>, or null when it is assigned more than once, by
    /// reference, or not at all.
    /// </summary>
    public IOperation? SingleValue(ILocalSymbol local, CancellationToken cancellationToken)
    {
        IReadOnlyList<IOperation?>? values = ForLocal(local, cancellationToken)?.Of(local);
        return values is { Count: 1 } ? values[0] : null;
    }
}

/// <summary>One semantic model per tree of the compilation, shared by the parts of the analysis.</summary>
internal sealed class SemanticModels
{
    private readonly Compilation _compilation;
    private readonly ConcurrentDictionary<SyntaxTree, SemanticModel> _models = new();

    public SemanticModels(Compilation compilation) => _compilation = compilation;

    public Compilation Compilation => _compilation;

    /// <summary>The model of <paramref name="tree"/>, or null when the tree is not in the compilation.</summary>
    public SemanticModel? Get(SyntaxTree tree) =>
        _compilation.ContainsSyntaxTree(tree)
#pragma warning disable RS1030 // The callees' bodies live in other trees than the one being analyzed; one model per tree, cached.
            ? _models.GetOrAdd(tree, t => _compilation.GetSemanticModel(t))
#pragma warning restore RS1030
            : null;

    /// <summary>The operation of the declaration of <paramref name="reference"/>, or null.</summary>
    public IOperation? Operation(SyntaxReference reference, CancellationToken cancellationToken) =>
        Get(reference.SyntaxTree)?.GetOperation(reference.GetSyntax(cancellationToken), cancellationToken);

    public static ImmutableArray<SyntaxReference> InCompilation(Compilation compilation, ImmutableArray<SyntaxReference> references)
    {
        ImmutableArray<SyntaxReference>.Builder result = ImmutableArray.CreateBuilder<SyntaxReference>();
        foreach (SyntaxReference reference in references)
        {
            if (compilation.ContainsSyntaxTree(reference.SyntaxTree))
            {
                result.Add(reference);
            }
        }

        return result.ToImmutable();
    }
}
