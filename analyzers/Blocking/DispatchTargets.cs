// Which methods a virtual, interface or delegate call may run, from the compilation's types; read-only over the
// compilation.
using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace DmaBuf.Analyzers.Blocking;

// Which methods a call may run. A non-virtual call runs its target. A virtual or interface call runs the
// implementation of the receiver's run-time type: when that type is known (a `new`, a sealed or value type), that one
// implementation; when the receiver's static type is declared in the compilation, the implementation of that type and
// of every type of the compilation derived from it (implementations in other assemblies are not assumed, either way);
// otherwise the implementation the static type has, as the base class library's table and [MightSleep] judge it.

/// <summary>Resolves the possible targets of calls; one per compilation, thread-safe.</summary>
internal sealed class DispatchTargets
{
    private readonly Compilation _compilation;
    private readonly Lazy<Dictionary<INamedTypeSymbol, List<INamedTypeSymbol>>> _subtypes;

    public DispatchTargets(Compilation compilation)
    {
        _compilation = compilation;
        _subtypes = new Lazy<Dictionary<INamedTypeSymbol, List<INamedTypeSymbol>>>(BuildSubtypes, System.Threading.LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>
    /// The methods a call of <paramref name="method"/> may run: one for a non-virtual call or a known run-time type,
    /// else one per implementation the compilation has for a receiver of static type <paramref name="receiverType"/>.
    /// </summary>
    public ImmutableArray<IMethodSymbol> Of(IMethodSymbol method, ITypeSymbol? receiverType, ITypeSymbol? exactType, bool isVirtual)
    {
        if (!isVirtual || method.IsStatic)
        {
            return ImmutableArray.Create(method);
        }

        if (exactType is not null && exactType.TypeKind is not (TypeKind.Error or TypeKind.TypeParameter or TypeKind.Dynamic))
        {
            return ImmutableArray.Create(Devirtualize(method, exactType));
        }

        if (receiverType is not INamedTypeSymbol named || named.TypeKind == TypeKind.Error)
        {
            return ImmutableArray.Create(method);
        }

        if (named.IsSealed || named.IsValueType || !IsInCompilation(named))
        {
            return ImmutableArray.Create(Devirtualize(method, named));
        }

        var targets = new List<IMethodSymbol>();
        if (IsConcrete(named))
        {
            targets.Add(Devirtualize(method, named));
        }

        if (_subtypes.Value.TryGetValue(named.OriginalDefinition, out List<INamedTypeSymbol>? derived))
        {
            foreach (INamedTypeSymbol type in derived)
            {
                IMethodSymbol target = Devirtualize(method, type);
                if (!target.IsAbstract && !targets.Contains(target, SymbolEqualityComparer.Default))
                {
                    targets.Add(target);
                }
            }
        }

        return targets.Count == 0 ? ImmutableArray.Create(Devirtualize(method, named)) : targets.ToImmutableArray();
    }

    /// <summary>The most derived override of <paramref name="method"/> that a receiver of type <paramref name="receiverType"/> has.</summary>
    public static IMethodSymbol Devirtualize(IMethodSymbol method, ITypeSymbol receiverType)
    {
        if (method.IsStatic || receiverType.TypeKind is TypeKind.Interface or TypeKind.TypeParameter or TypeKind.Error or TypeKind.Dynamic)
        {
            return method;
        }

        if (method.ContainingType?.TypeKind == TypeKind.Interface)
        {
            // The implementation may itself be virtual (an abstract class implements the interface, a subclass overrides).
            if (FindImplementation(receiverType, method) is not IMethodSymbol implementation)
            {
                return method;
            }

            method = implementation;
            if (!(method.IsVirtual || method.IsAbstract || method.IsOverride))
            {
                return method;
            }
        }

        for (ITypeSymbol? type = receiverType; type is not null; type = type.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(type.OriginalDefinition, method.ContainingType?.OriginalDefinition))
            {
                return method;
            }

            foreach (ISymbol member in type.GetMembers(method.Name))
            {
                if (member is IMethodSymbol candidate && candidate.IsOverride && Overrides(candidate, method))
                {
                    return candidate;
                }
            }
        }

        return method;
    }

    private static ISymbol? FindImplementation(ITypeSymbol type, IMethodSymbol interfaceMethod)
    {
        if (type.FindImplementationForInterfaceMember(interfaceMethod) is { } found)
        {
            return found;
        }

        // A generic type definition implements the interface over its own type parameters: match on the definition.
        if (interfaceMethod.ContainingType is { IsGenericType: true } @interface)
        {
            foreach (INamedTypeSymbol implemented in type.AllInterfaces)
            {
                if (SymbolEqualityComparer.Default.Equals(implemented.OriginalDefinition, @interface.OriginalDefinition))
                {
                    foreach (ISymbol member in implemented.GetMembers(interfaceMethod.Name))
                    {
                        if (member is IMethodSymbol candidate && SymbolEqualityComparer.Default.Equals(candidate.OriginalDefinition, interfaceMethod.OriginalDefinition))
                        {
                            return type.FindImplementationForInterfaceMember(candidate);
                        }
                    }
                }
            }
        }

        return null;
    }

    private static bool Overrides(IMethodSymbol candidate, IMethodSymbol method)
    {
        IMethodSymbol target = method.OriginalDefinition;
        for (IMethodSymbol? current = candidate.OverriddenMethod; current is not null; current = current.OverriddenMethod)
        {
            if (SymbolEqualityComparer.Default.Equals(current.OriginalDefinition, target))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether an object whose static type is <paramref name="staticType"/> (and run-time type <paramref name="exactType"/>,
    /// when known) is a <paramref name="type"/>: true, false, or null when it may or may not be.
    /// </summary>
    public static bool? IsInstanceOf(ITypeSymbol? staticType, ITypeSymbol? exactType, INamedTypeSymbol type)
    {
        if (exactType is not null)
        {
            return DerivesFrom(exactType, type);
        }

        if (staticType is null || staticType.TypeKind is TypeKind.Error or TypeKind.TypeParameter or TypeKind.Dynamic)
        {
            return null;
        }

        if (DerivesFrom(staticType, type))
        {
            return true;
        }

        if (DerivesFrom(type, staticType))
        {
            return null;
        }

        // Unrelated: no object is both, unless an interface leaves room for a subclass that implements it.
        bool classes = staticType.TypeKind is TypeKind.Class or TypeKind.Struct && type.TypeKind is TypeKind.Class or TypeKind.Struct;
        return classes || type.IsSealed || staticType.IsSealed ? false : null;
    }

    /// <summary>Whether <paramref name="type"/> is <paramref name="ancestor"/>, derives from it or implements it (compared as definitions).</summary>
    public static bool DerivesFrom(ITypeSymbol type, ITypeSymbol ancestor)
    {
        ITypeSymbol target = ancestor.OriginalDefinition;
        for (ITypeSymbol? current = type; current is not null; current = current.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(current.OriginalDefinition, target))
            {
                return true;
            }
        }

        foreach (INamedTypeSymbol @interface in type.AllInterfaces)
        {
            if (SymbolEqualityComparer.Default.Equals(@interface.OriginalDefinition, target))
            {
                return true;
            }
        }

        return false;
    }

    private bool IsInCompilation(INamedTypeSymbol type) => SymbolEqualityComparer.Default.Equals(type.ContainingAssembly, _compilation.Assembly);

    private static bool IsConcrete(INamedTypeSymbol type) => type.TypeKind is TypeKind.Class or TypeKind.Struct && !type.IsAbstract && !type.IsStatic;

    /// <summary>For each type of the compilation (as its definition), the concrete types of the compilation derived from it or implementing it.</summary>
    private Dictionary<INamedTypeSymbol, List<INamedTypeSymbol>> BuildSubtypes()
    {
        var result = new Dictionary<INamedTypeSymbol, List<INamedTypeSymbol>>(SymbolEqualityComparer.Default);
        var stack = new Stack<INamespaceOrTypeSymbol>();
        stack.Push(_compilation.Assembly.GlobalNamespace);
        while (stack.Count > 0)
        {
            foreach (ISymbol member in stack.Pop().GetMembers())
            {
                if (member is not INamespaceOrTypeSymbol container)
                {
                    continue;
                }

                stack.Push(container);
                if (container is not INamedTypeSymbol type || !IsConcrete(type))
                {
                    continue;
                }

                var supertypes = new HashSet<INamedTypeSymbol>(SymbolEqualityComparer.Default);
                for (INamedTypeSymbol? current = type.BaseType; current is not null; current = current.BaseType)
                {
                    supertypes.Add(current.OriginalDefinition);
                }

                foreach (INamedTypeSymbol @interface in type.AllInterfaces)
                {
                    supertypes.Add(@interface.OriginalDefinition);
                }

                foreach (INamedTypeSymbol supertype in supertypes)
                {
                    if (!IsInCompilation(supertype))
                    {
                        continue;
                    }

                    if (!result.TryGetValue(supertype, out List<INamedTypeSymbol>? list))
                    {
                        list = new List<INamedTypeSymbol>();
                        result.Add(supertype, list);
                    }

                    list.Add(type);
                }
            }
        }

        return result;
    }
}
