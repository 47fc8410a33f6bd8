// Which parameters a method of the compilation may keep: a parameter escapes when the body stores it (a field, an
// array, a collection), returns it, captures it in a lambda or local function, or hands it to code that may keep
// it; it does not when the body only reads it, formats or logs it, or hands it to methods that do not keep it
// either (to any depth). Computed once per method and parameter per compilation from the body's operation tree;
// recursion and anything the analysis cannot see count as escapes, so that no buffer is called leaked wrongly.
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace DmaBuf.Analyzers.Engine;

internal sealed class EscapeSummaries
{
    private const int MaxAliasDepth = 4;

    private readonly KnownSymbols _symbols;
    private readonly MethodBodies _bodies;
    private readonly ConcurrentDictionary<(IMethodSymbol Method, int Ordinal), bool> _cache = new();

    public EscapeSummaries(Compilation compilation, KnownSymbols symbols, MethodBodies bodies)
    {
        _symbols = symbols;
        _bodies = bodies;
    }

    /// <summary>
    /// Whether handing a value to parameter <paramref name="parameter"/> of <paramref name="method"/> may let the
    /// callee keep it: true for methods the analysis cannot see into (virtual ones, those of libraries not listed
    /// in <see cref="NonRetainingMethods"/>), otherwise what the callee's body does with it.
    /// </summary>
    public bool MayKeep(IMethodSymbol method, IParameterSymbol? parameter, CancellationToken cancellationToken) =>
        MayKeep(method, parameter, ImmutableHashSet<(IMethodSymbol, int)>.Empty, cancellationToken);

    private bool MayKeep(IMethodSymbol method, IParameterSymbol? parameter, ImmutableHashSet<(IMethodSymbol, int)> inProgress, CancellationToken cancellationToken)
    {
        if (parameter is null)
        {
            return true;
        }

        if (_symbols.IsSharingType(method.ContainingType) || NonRetainingMethods.Contains(method))
        {
            return false;
        }

        IMethodSymbol definition = method.OriginalDefinition;
        if (!_bodies.HasBody(definition) || definition.MethodKind is MethodKind.AnonymousFunction ||
            (definition.IsVirtual || definition.IsAbstract || definition.IsOverride && !definition.IsSealed && !definition.ContainingType.IsSealed) ||
            definition.ContainingType.TypeKind == TypeKind.Interface)
        {
            // What a virtual call runs is not known; a lambda is judged where it is created.
            return true;
        }

        (IMethodSymbol, int) key = (definition, parameter.Ordinal);
        if (_cache.TryGetValue(key, out bool cached))
        {
            return cached;
        }

        if (inProgress.Contains(key))
        {
            return true;
        }

        bool keeps = Compute(definition, definition.Parameters[parameter.Ordinal], inProgress.Add(key), cancellationToken);
        return _cache.GetOrAdd(key, keeps);
    }

    private bool Compute(IMethodSymbol method, IParameterSymbol parameter, ImmutableHashSet<(IMethodSymbol, int)> inProgress, CancellationToken cancellationToken)
    {
        if (parameter.RefKind is RefKind.Ref or RefKind.Out || _bodies.Get(method, cancellationToken) is not { } body || MethodBodies.IsIterator(body))
        {
            // An iterator keeps its parameters in its enumerator, to run its body later.
            return true;
        }

        var uses = new List<IOperation>();
        foreach (IOperation op in body.Descendants())
        {
            if (op is IParameterReferenceOperation reference && SymbolEqualityComparer.Default.Equals(reference.Parameter, parameter))
            {
                uses.Add(reference);
            }
        }

        return uses.Any(use => Escapes(use, body, inProgress, 0, cancellationToken));
    }

    /// <summary>Whether one read of the value lets it escape, looking through copies into locals written once.</summary>
    private bool Escapes(IOperation use, IOperation body, ImmutableHashSet<(IMethodSymbol, int)> inProgress, int depth, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        for (IOperation? ancestor = use.Parent; ancestor is not null && !ReferenceEquals(ancestor, body); ancestor = ancestor.Parent)
        {
            if (ancestor is IAnonymousFunctionOperation or ILocalFunctionOperation)
            {
                // Captured: the closure may outlive the call.
                return true;
            }
        }

        IOperation current = use;
        IOperation? parent = use.Parent;
        while (parent is IConversionOperation or IParenthesizedOperation)
        {
            current = parent;
            parent = parent.Parent;
        }

        switch (parent)
        {
            case IInvocationOperation attach when ReferenceEquals(attach.Instance, current) && KnownSymbols.IsSame(attach.TargetMethod, _symbols.Attach):
                // An attachment carries its buffer (attachment.Buffer): the buffer goes wherever its attachment goes.
                return Escapes(attach, body, inProgress, depth + 1, cancellationToken);
            case null:
            case IExpressionStatementOperation:
            case IIsTypeOperation:
            case IIsPatternOperation { Pattern: not (IDeclarationPatternOperation { DeclaredSymbol: not null } or IRecursivePatternOperation { DeclaredSymbol: not null }) }:
            case IBinaryOperation:
            case IInterpolationOperation:
            case INameOfOperation:
            case IInvocationOperation call when ReferenceEquals(call.Instance, current):
            case IMemberReferenceOperation member when ReferenceEquals(member.Instance, current):
                return false;
            case IReturnOperation when use is IParameterReferenceOperation:
                // Returned as it came: the caller gets its own buffer back (MethodSummary.ReturnedParameter).
                return false;
            case IArgumentOperation argument:
                return Handed(argument, inProgress, cancellationToken);
            case IArrayInitializerOperation { Parent: IArrayCreationOperation { IsImplicit: true, Parent: IArgumentOperation { ArgumentKind: ArgumentKind.ParamArray } paramArray } }:
                return Handed(paramArray, inProgress, cancellationToken);
            case IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator }:
                return Alias(declarator.Symbol, body, inProgress, depth, cancellationToken);
            case ISimpleAssignmentOperation assignment when ReferenceEquals(assignment.Value, current) && assignment.Target is ILocalReferenceOperation local:
                return Alias(local.Local, body, inProgress, depth, cancellationToken);
            default:
                return true;
        }
    }

    private bool Handed(IArgumentOperation argument, ImmutableHashSet<(IMethodSymbol, int)> inProgress, CancellationToken cancellationToken) =>
        argument.Parent switch
        {
            IInvocationOperation call => MayKeep(call.TargetMethod, argument.Parameter, inProgress, cancellationToken),
            IObjectCreationOperation { Constructor: { } constructor } => MayKeep(constructor, argument.Parameter, inProgress, cancellationToken),
            _ => true,
        };

    /// <summary>A copy into a local: every read of that local (whatever else it is given) decides.</summary>
    private bool Alias(ILocalSymbol local, IOperation body, ImmutableHashSet<(IMethodSymbol, int)> inProgress, int depth, CancellationToken cancellationToken)
    {
        if (depth >= MaxAliasDepth || local.IsRef)
        {
            return true;
        }

        foreach (IOperation op in body.Descendants())
        {
            if (op is ILocalReferenceOperation reference && SymbolEqualityComparer.Default.Equals(reference.Local, local) && !reference.IsDeclaration &&
                !(reference.Parent is ISimpleAssignmentOperation assignment && ReferenceEquals(assignment.Target, reference)) &&
                Escapes(reference, body, inProgress, depth + 1, cancellationToken))
            {
                return true;
            }
        }

        return false;
    }
}
