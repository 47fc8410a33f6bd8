// Finds the bodies (and their graphs) of the compilation's methods for the blocking summaries; it only reads syntax
// and semantic models.
using System.Collections.Generic;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace DmaBuf.Analyzers.Blocking;

// The operation trees a call of a method of the compilation runs: its body (block or expression), a local function's or
// lambda's body, and for a constructor the instance field and property initializers it runs (unless it chains to
// `this(...)`), then its `: base(...)`/`: this(...)` call, then its body.

/// <summary>Finds the bodies of the methods of a compilation.</summary>
internal sealed class BlockingBodies
{
    private readonly SemanticModels _models;

    public BlockingBodies(SemanticModels models) => _models = models;

    /// <summary>The operation roots that calling <paramref name="method"/> runs, in order.</summary>
    public IEnumerable<IOperation> Of(IMethodSymbol method, CancellationToken cancellationToken)
    {
        if (method.MethodKind == MethodKind.Constructor && method.IsImplicitlyDeclared && !method.IsStatic)
        {
            // The default constructor has no body of its own; it runs the instance field and property initializers.
            foreach (IOperation initializer in InstanceInitializers(method.ContainingType, cancellationToken))
            {
                yield return initializer;
            }

            yield break;
        }

        foreach (SyntaxReference reference in method.DeclaringSyntaxReferences)
        {
            switch (_models.Operation(reference, cancellationToken))
            {
                case IMethodBodyOperation methodBody:
                    if (methodBody.BlockBody is not null)
                    {
                        yield return methodBody.BlockBody;
                    }

                    if (methodBody.ExpressionBody is not null)
                    {
                        yield return methodBody.ExpressionBody;
                    }

                    break;
                case IConstructorBodyOperation constructorBody:
                    if (!method.IsStatic && !ChainsToThis(constructorBody, method))
                    {
                        foreach (IOperation initializer in InstanceInitializers(method.ContainingType, cancellationToken))
                        {
                            yield return initializer;
                        }
                    }

                    if (constructorBody.Initializer is not null)
                    {
                        yield return constructorBody.Initializer;
                    }

                    if (constructorBody.BlockBody is not null)
                    {
                        yield return constructorBody.BlockBody;
                    }

                    if (constructorBody.ExpressionBody is not null)
                    {
                        yield return constructorBody.ExpressionBody;
                    }

                    break;
                case ILocalFunctionOperation localFunction:
                    if (localFunction.Body is not null)
                    {
                        yield return localFunction.Body;
                    }

                    break;
                case IAnonymousFunctionOperation lambda:
                    yield return lambda.Body;
                    break;
                case IDelegateCreationOperation { Target: IAnonymousFunctionOperation lambda }:
                    yield return lambda.Body;
                    break;
                case IBlockOperation block:
                    yield return block;
                    break;
            }
        }
    }

    /// <summary>Whether a constructor calls another constructor of its own type (<c>: this(...)</c>), which runs the initializers instead.</summary>
    private static bool ChainsToThis(IConstructorBodyOperation body, IMethodSymbol constructor) =>
        (body.Initializer is IExpressionStatementOperation statement ? statement.Operation : body.Initializer) is IInvocationOperation { TargetMethod.ContainingType: { } target } &&
        SymbolEqualityComparer.Default.Equals(target.OriginalDefinition, constructor.ContainingType.OriginalDefinition);

    /// <summary>The initializers of the instance fields and properties of <paramref name="type"/>, which every constructor that does not chain to <c>this(...)</c> runs.</summary>
    private IEnumerable<IOperation> InstanceInitializers(INamedTypeSymbol? type, CancellationToken cancellationToken)
    {
        if (type is null)
        {
            yield break;
        }

        foreach (ISymbol member in type.GetMembers())
        {
            if (member.IsStatic || member.IsImplicitlyDeclared || member is not (IFieldSymbol or IPropertySymbol))
            {
                continue;
            }

            foreach (SyntaxReference reference in member.DeclaringSyntaxReferences)
            {
                if (_models.Get(reference.SyntaxTree) is not { } model)
                {
                    continue;
                }

                foreach (SyntaxNode child in reference.GetSyntax(cancellationToken).ChildNodes())
                {
                    if (model.GetOperation(child, cancellationToken) is ISymbolInitializerOperation initializer)
                    {
                        yield return initializer;
                    }
                }
            }
        }
    }
}
