// What in a body may block and why: the kinds of blocking site and their classification from the operation tree.
using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace DmaBuf.Analyzers.Blocking;

// What one operation does that may block, as sites: a direct blocking operation (await, lock, a [MightSleep] or
// runtime call, a call of the base class library's table, a listed method), or a call or enumeration of methods of the
// compilation, with the receiver and arguments that the callees' summaries are decided against.

/// <summary>The kinds of site.</summary>
internal enum SiteKind
{
    /// <summary>Blocks by itself (under the site's own conditions).</summary>
    Direct,

    /// <summary>Calls methods of the compilation; blocks if a way of one of their summaries holds.</summary>
    Call,

    /// <summary>A <c>foreach</c> runs iterators of the compilation; blocks if a way of one of their summaries holds.</summary>
    Enumerate,
}

/// <summary>One thing an operation does that may block. Its description is only worked out when asked for.</summary>
internal sealed class Site
{
    private readonly Func<string> _describe;
    private string? _description;

    private Site(SiteKind kind, IOperation operation, Func<string> describe, string shortName)
    {
        Kind = kind;
        Operation = operation;
        _describe = describe;
        ShortName = shortName;
    }

    public SiteKind Kind { get; }

    /// <summary>The operation the site is at (its syntax locates it, and looks up its path facts).</summary>
    public IOperation Operation { get; }

    /// <summary>As a message names it: <c>'Thread.Sleep(int)'</c>, <c>'lock'</c>, <c>'C.Helper()'</c>.</summary>
    public string Description => _description ??= _describe();

    /// <summary>As the last element of a chain names it: <c>Thread.Sleep</c>, <c>lock</c>.</summary>
    public string ShortName { get; }

    /// <summary>An <c>await</c> (or <c>await foreach</c>, <c>await using</c>): it does not block the caller of an async method.</summary>
    public bool IsAwait { get; private set; }

    /// <summary>For stream, reader and writer I/O: the receiver, which decides whether it blocks (null: it does).</summary>
    public IOperation? IoReceiver { get; private set; }

    /// <summary>For a task's <c>Result</c> or an awaiter's <c>GetResult()</c>: the receiver; a completed task does not block.</summary>
    public IOperation? TaskReceiver { get; private set; }

    /// <summary>For calls and enumerations: the method as written (for the message).</summary>
    public IMethodSymbol? Called { get; private set; }

    /// <summary>For calls and enumerations: every method of the compilation the site may run.</summary>
    public ImmutableArray<IMethodSymbol> Targets { get; private set; } = ImmutableArray<IMethodSymbol>.Empty;

    /// <summary>The receiver the targets' receiver literals are decided against (for a <c>new</c>, the creation itself).</summary>
    public IOperation? Receiver { get; private set; }

    /// <summary>The arguments the targets' parameter literals are decided against.</summary>
    public ImmutableArray<IArgumentOperation> Arguments { get; private set; } = ImmutableArray<IArgumentOperation>.Empty;

    public static Site Direct(IOperation operation, string description, string shortName, bool isAwait = false) =>
        new(SiteKind.Direct, operation, () => description, shortName) { IsAwait = isAwait };

    public static Site DirectCall(IOperation operation, IMethodSymbol called, IOperation? receiver, bool io, bool taskResult) =>
        new(SiteKind.Direct, operation, () => "'" + BlockingAnalysis.Display(called) + "'", ShortOf(called))
        {
            IoReceiver = io ? receiver : null,
            TaskReceiver = taskResult ? receiver : null,
        };

    public static Site Call(SiteKind kind, IOperation operation, IMethodSymbol called, ImmutableArray<IMethodSymbol> targets, IOperation? receiver, ImmutableArray<IArgumentOperation> arguments, Func<string> describe) =>
        new(kind, operation, describe, ShortOf(called)) { Called = called, Targets = targets, Receiver = receiver, Arguments = arguments };

    public Site WithDescription(Func<string> describe, string shortName) =>
        new(Kind, Operation, describe, shortName)
        {
            IsAwait = IsAwait,
            IoReceiver = IoReceiver,
            TaskReceiver = TaskReceiver,
            Called = Called,
            Targets = Targets,
            Receiver = Receiver,
            Arguments = Arguments,
        };

    /// <summary>The argument passed for parameter <paramref name="ordinal"/> (defaults included), or null.</summary>
    public IOperation? Argument(int ordinal)
    {
        foreach (IArgumentOperation argument in Arguments)
        {
            if (argument.Parameter?.Ordinal == ordinal)
            {
                return argument.Value;
            }
        }

        return null;
    }

    public static string ShortOf(IMethodSymbol method)
    {
        string display = BlockingAnalysis.Display(method);
        int parenthesis = display.IndexOf('(');
        return parenthesis > 0 ? display.Substring(0, parenthesis) : display;
    }
}

/// <summary>Classifies operations into <see cref="Site"/>s; one per compilation, thread-safe.</summary>
internal sealed class BlockingSites
{
    private const int MaxDelegateResolutionDepth = 4;

    private readonly BlockingCallTable _table;
    private readonly AdditionalBlockingMethods _additional;
    private readonly DispatchTargets _dispatch;
    private readonly InMemoryValues _values;
    private readonly AssignedValues _assigned;
    private readonly SemanticModels _models;
    private readonly INamedTypeSymbol _disposable;
    private readonly ImmutableHashSet<IMethodSymbol> _runtimeBlocking;
    private readonly Func<IMethodSymbol, bool> _isDeclaredBlocking;

    public BlockingSites(KnownSymbols symbols, BlockingCallTable table, AdditionalBlockingMethods additional, DispatchTargets dispatch, InMemoryValues values, AssignedValues assigned, SemanticModels models, Func<IMethodSymbol, bool> isDeclaredBlocking)
    {
        _table = table;
        _additional = additional;
        _dispatch = dispatch;
        _values = values;
        _assigned = assigned;
        _models = models;
        _isDeclaredBlocking = isDeclaredBlocking;
        _disposable = models.Compilation.GetSpecialType(SpecialType.System_IDisposable);
        _runtimeBlocking = ImmutableHashSet.Create<IMethodSymbol>(
            SymbolEqualityComparer.Default,
            symbols.Kmap,
            symbols.BeginCpuAccess,
            symbols.CpuAccess,
            symbols.CpuAccessScopeDispose,
            symbols.ValidationMightSleep);
    }

    /// <summary>What <paramref name="operation"/> itself (not its children) does that may block.</summary>
    public List<Site> Classify(IOperation operation, CancellationToken cancellationToken)
    {
        var sites = new List<Site>();
        switch (operation)
        {
            case IAwaitOperation:
                sites.Add(Site.Direct(operation, "'await'", "await", isAwait: true));
                break;
            case ILockOperation:
                sites.Add(Site.Direct(operation, "'lock'", "lock"));
                break;
            case IForEachLoopOperation forEach:
                ClassifyForEach(forEach, sites, cancellationToken);
                break;
            case IUsingOperation { IsAsynchronous: true }:
            case IUsingDeclarationOperation { IsAsynchronous: true }:
                sites.Add(Site.Direct(operation, "'await using'", "await using", isAwait: true));
                break;
            case IUsingOperation @using:
                ClassifyDisposal(@using.Resources, operation, sites, cancellationToken);
                break;
            case IUsingDeclarationOperation usingDeclaration:
                ClassifyDisposal(usingDeclaration.DeclarationGroup, operation, sites, cancellationToken);
                break;
            case IInvocationOperation { IsImplicit: true, TargetMethod.Name: "MoveNext" } moveNext when LoweredLoop(moveNext.Syntax) is { } loop:
                // A control flow graph lowers `foreach` to GetEnumerator, MoveNext and Current: the loop's MoveNext runs the iterator.
                if (_models.Get(loop.SyntaxTree)?.GetOperation(loop, cancellationToken) is IForEachLoopOperation lowered)
                {
                    ClassifyForEach(lowered, sites, cancellationToken);
                }

                break;
            case IInvocationOperation invocation:
                ClassifyCall(invocation.TargetMethod, invocation.Instance, invocation.IsVirtual, invocation.Arguments, operation, sites, cancellationToken);
                break;
            case IObjectCreationOperation { Constructor: { } constructor } creation:
                ClassifyCall(constructor, creation, isVirtual: false, creation.Arguments, operation, sites, cancellationToken);
                break;
            case IPropertyReferenceOperation property:
                ClassifyProperty(property, sites, cancellationToken);
                break;
            case IEventAssignmentOperation { EventReference: IEventReferenceOperation eventReference } eventAssignment:
                if ((eventAssignment.Adds ? eventReference.Event.AddMethod : eventReference.Event.RemoveMethod) is { } accessor)
                {
                    ClassifyCall(accessor, eventReference.Instance, IsVirtualAccess(eventReference.Instance, eventReference.Event), ImmutableArray<IArgumentOperation>.Empty, operation, sites, cancellationToken);
                }

                break;
            default:
                if (OperatorMethod(operation) is { } method)
                {
                    ClassifyCall(method, null, isVirtual: false, ImmutableArray<IArgumentOperation>.Empty, operation, sites, cancellationToken);
                }

                break;
        }

        return sites;
    }

    /// <summary>The <c>foreach</c> a lowered enumerator call belongs to (its syntax is the loop, or the loop's collection).</summary>
    private static CommonForEachStatementSyntax? LoweredLoop(SyntaxNode syntax) => syntax switch
    {
        CommonForEachStatementSyntax loop => loop,
        ExpressionSyntax { Parent: CommonForEachStatementSyntax loop } expression when loop.Expression == expression => loop,
        _ => null,
    };

    /// <summary>The user-defined operator or conversion an operation applies, if any.</summary>
    private static IMethodSymbol? OperatorMethod(IOperation operation) => operation switch
    {
        IBinaryOperation binary => binary.OperatorMethod,
        IUnaryOperation unary => unary.OperatorMethod,
        IIncrementOrDecrementOperation increment => increment.OperatorMethod,
        ICompoundAssignmentOperation compound => compound.OperatorMethod,
        IConversionOperation conversion => conversion.OperatorMethod,
        _ => null,
    };

    /// <summary>
    /// Whether a property or event access dispatches virtually. A <c>base.</c> access does not, but devirtualizing it
    /// on its receiver's static type (the base class) finds the same member, so it needs no special case.
    /// </summary>
    private static bool IsVirtualAccess(IOperation? instance, ISymbol member) =>
        instance is not null && instance is not IInstanceReferenceOperation { ReferenceKind: InstanceReferenceKind.ContainingTypeInstance, Syntax: BaseExpressionSyntax } &&
        (member.IsVirtual || member.IsAbstract || member.IsOverride || member.ContainingType?.TypeKind == TypeKind.Interface);

    private void ClassifyForEach(IForEachLoopOperation forEach, List<Site> sites, CancellationToken cancellationToken)
    {
        if (forEach.IsAsynchronous)
        {
            sites.Add(Site.Direct(forEach, "'await foreach'", "await foreach", isAwait: true));
            return;
        }

        IOperation? collection = StripConversions(forEach.Collection);
        if (collection is ILocalReferenceOperation local && _assigned.SingleValue(local.Local, cancellationToken) is { } assigned)
        {
            // `var items = Iterate(); foreach (var x in items)`: the iterator runs at the loop.
            collection = StripConversions(assigned);
        }

        switch (collection)
        {
            case IInvocationOperation invocation:
                {
                    IMethodSymbol target = invocation.TargetMethod;
                    if (_table.IsBlockingWhenEnumerated(Normalize(target)))
                    {
                        sites.Add(Site.Direct(forEach, $"'foreach' over '{BlockingAnalysis.Display(target)}'", "foreach over " + Site.ShortOf(target)));
                        return;
                    }

                    AddEnumeration(forEach, target, invocation.Instance, invocation.IsVirtual, invocation.Arguments, sites, cancellationToken);
                    break;
                }

            case IPropertyReferenceOperation { Property.GetMethod: { } getter } property:
                AddEnumeration(forEach, getter, property.Instance, IsVirtualAccess(property.Instance, property.Property), property.Arguments, sites, cancellationToken);
                break;
        }

        // A collection of the compilation whose GetEnumerator is an iterator.
        if (forEach.Syntax is ForEachStatementSyntax statement && _models.Get(statement.SyntaxTree)?.GetForEachStatementInfo(statement) is { GetEnumeratorMethod: { } getEnumerator } &&
            HasSourceBody(Normalize(getEnumerator)))
        {
            AddEnumeration(forEach, getEnumerator, forEach.Collection, isVirtual: getEnumerator.IsVirtual || getEnumerator.IsAbstract || getEnumerator.IsOverride, ImmutableArray<IArgumentOperation>.Empty, sites, cancellationToken);
        }
    }

    private void AddEnumeration(IForEachLoopOperation forEach, IMethodSymbol method, IOperation? instance, bool isVirtual, ImmutableArray<IArgumentOperation> arguments, List<Site> sites, CancellationToken cancellationToken)
    {
        IOperation? receiver = StripConversions(instance);
        ImmutableArray<IMethodSymbol> targets = SourceTargets(method, receiver, isVirtual, cancellationToken);
        if (!targets.IsEmpty)
        {
            sites.Add(Site.Call(SiteKind.Enumerate, forEach, method, targets, receiver, arguments, () => "'foreach' over '" + BlockingAnalysis.Display(method) + "'"));
        }
    }

    private ImmutableArray<IMethodSymbol> SourceTargets(IMethodSymbol method, IOperation? receiver, bool isVirtual, CancellationToken cancellationToken)
    {
        ImmutableArray<IMethodSymbol>.Builder result = ImmutableArray.CreateBuilder<IMethodSymbol>();
        foreach (IMethodSymbol target in _dispatch.Of(method, receiver?.Type, isVirtual ? _values.ExactType(receiver, cancellationToken) : null, isVirtual))
        {
            IMethodSymbol definition = Normalize(target);
            if (HasSourceBody(definition) && !Contains(result, definition))
            {
                result.Add(definition);
            }
        }

        return result.ToImmutable();
    }

    private void ClassifyDisposal(IOperation resources, IOperation site, List<Site> sites, CancellationToken cancellationToken)
    {
        if (_disposable.TypeKind == TypeKind.Error)
        {
            return;
        }

        IMethodSymbol? dispose = null;
        foreach (ISymbol member in _disposable.GetMembers("Dispose"))
        {
            dispose ??= member as IMethodSymbol;
        }

        if (dispose is null)
        {
            return;
        }

        foreach (IOperation? resource in Resources(resources))
        {
            if (resource?.Type is null)
            {
                continue;
            }

            var found = new List<Site>();
            ClassifyCall(dispose, resource, isVirtual: true, ImmutableArray<IArgumentOperation>.Empty, site, found, cancellationToken);
            foreach (Site disposal in found)
            {
                sites.Add(disposal.WithDescription(() => disposal.Description + " at the end of the 'using'", disposal.ShortName));
            }
        }
    }

    /// <summary>The values a <c>using</c> disposes: each declared variable's initial value, or the expression.</summary>
    private static IEnumerable<IOperation?> Resources(IOperation resources)
    {
        if (resources is IVariableDeclarationGroupOperation group)
        {
            foreach (IVariableDeclarationOperation declaration in group.Declarations)
            {
                foreach (IVariableDeclaratorOperation declarator in declaration.Declarators)
                {
                    yield return declarator.Initializer?.Value ?? declaration.Initializer?.Value;
                }
            }
        }
        else
        {
            yield return resources;
        }
    }

    private void ClassifyProperty(IPropertyReferenceOperation reference, List<Site> sites, CancellationToken cancellationToken)
    {
        IPropertySymbol property = reference.Property;
        bool writes = false;
        bool reads = true;
        switch (reference.Parent)
        {
            case ISimpleAssignmentOperation assignment when assignment.Target == reference:
                writes = true;
                reads = false;
                break;
            case ICompoundAssignmentOperation compound when compound.Target == reference:
            case ICoalesceAssignmentOperation coalesce when coalesce.Target == reference:
            case IIncrementOrDecrementOperation:
                writes = true;
                break;
        }

        bool isVirtual = IsVirtualAccess(reference.Instance, property);
        int before = sites.Count;
        if (reads && property.GetMethod is { } getter)
        {
            ClassifyCall(getter, reference.Instance, isVirtual, reference.Arguments, reference, sites, cancellationToken);
        }

        if (writes && sites.Count == before && property.SetMethod is { } setter)
        {
            ClassifyCall(setter, reference.Instance, isVirtual, reference.Arguments, reference, sites, cancellationToken);
        }
    }

    /// <summary>
    /// A call of <paramref name="method"/>: each possible target that blocks by itself is a direct site (the first one
    /// found), and the targets with a body in the compilation make one call site.
    /// </summary>
    private void ClassifyCall(IMethodSymbol method, IOperation? instance, bool isVirtual, ImmutableArray<IArgumentOperation> arguments, IOperation site, List<Site> sites, CancellationToken cancellationToken)
    {
        IOperation? receiver = StripConversions(instance);
        ITypeSymbol? receiverType = receiver?.Type;
        ITypeSymbol? exactType = isVirtual ? _values.ExactType(receiver, cancellationToken) : null;
        ImmutableArray<IMethodSymbol> possible = _dispatch.Of(method, receiverType, exactType, isVirtual);
        ImmutableArray<IMethodSymbol>.Builder source = ImmutableArray.CreateBuilder<IMethodSymbol>();
        bool direct = false;
        foreach (IMethodSymbol called in possible)
        {
            IMethodSymbol definition = Normalize(called);
            if (HasSourceBody(definition))
            {
                // A method of the compilation is judged by its body, even where it overrides a blocking one of the table.
                if (!IsDeclaredOrListed(definition, site) && !Contains(source, definition))
                {
                    source.Add(definition);
                    continue;
                }
            }

            if (!direct && DirectSite(called, definition, receiver, receiverType, arguments, site, cancellationToken) is { } blocking)
            {
                sites.Add(blocking);
                direct = true;
            }
        }

        if (source.Count > 0)
        {
            IMethodSymbol shown = method;
            if (site is IObjectCreationOperation)
            {
                receiver = site;
            }

            sites.Add(Site.Call(SiteKind.Call, site, shown, source.ToImmutable(), receiver, arguments, () => Quote(shown, site)));
        }
    }

    private bool IsDeclaredOrListed(IMethodSymbol definition, IOperation site) =>
        _isDeclaredBlocking(definition) || _additional.Contains(definition, site.Syntax.SyntaxTree);

    private Site? DirectSite(IMethodSymbol called, IMethodSymbol definition, IOperation? receiver, ITypeSymbol? receiverType, ImmutableArray<IArgumentOperation> arguments, IOperation site, CancellationToken cancellationToken)
    {
        if (_runtimeBlocking.Contains(definition) || _isDeclaredBlocking(definition) || _additional.Contains(definition, site.Syntax.SyntaxTree))
        {
            return Site.DirectCall(site, called, receiver, io: false, taskResult: false);
        }

        if (_table.IsBlocking(definition, receiverType) && !(_table.ZeroTimeoutPolls(definition) && PollsOnly(arguments)))
        {
            return Site.DirectCall(site, called, receiver, io: _table.IsReceiverIo(definition), taskResult: _table.IsTaskResult(definition));
        }

        if (definition.MethodKind == MethodKind.DelegateInvoke && ResolveDelegate(receiver, 0, cancellationToken) is { } target)
        {
            IMethodSymbol targetDefinition = Normalize(target);
            if (targetDefinition.MethodKind != MethodKind.AnonymousFunction)
            {
                // A method group: judge it as a direct call of that method.
                var found = new List<Site>();
                ClassifyCall(target, null, isVirtual: false, arguments, site, found, cancellationToken);
                return found.Count > 0 ? found[0] : null;
            }

            return HasSourceBody(targetDefinition)
                ? Site.Call(SiteKind.Call, site, targetDefinition, ImmutableArray.Create(targetDefinition), null, arguments, () => Quote(targetDefinition, site))
                : null;
        }

        return null;
    }

    /// <summary>A timeout argument of constant 0 or <c>TimeSpan.Zero</c>: the call only polls.</summary>
    private bool PollsOnly(ImmutableArray<IArgumentOperation> arguments)
    {
        foreach (IArgumentOperation argument in arguments)
        {
            if (argument.Parameter is null || !_table.IsTimeoutParameter(argument.Parameter))
            {
                continue;
            }

            IOperation? value = StripConversions(argument.Value);
            if (value?.ConstantValue is { HasValue: true, Value: int milliseconds } && milliseconds == 0)
            {
                return true;
            }

            if (value is IFieldReferenceOperation field && _table.IsTimeSpanZero(field.Field))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The lambda or method a delegate value refers to, when it can be told from the operation tree: a lambda or
    /// method group converted in place, or a local assigned exactly once (and never passed by reference).
    /// </summary>
    private IMethodSymbol? ResolveDelegate(IOperation? value, int depth, CancellationToken cancellationToken)
    {
        value = StripConversions(value);
        switch (value)
        {
            case IDelegateCreationOperation creation:
                return ResolveDelegate(creation.Target, depth, cancellationToken);
            case IAnonymousFunctionOperation lambda:
                return lambda.Symbol;
            case IFlowAnonymousFunctionOperation flowLambda:
                return flowLambda.Symbol;
            case IMethodReferenceOperation methodReference when !methodReference.IsVirtual:
                return methodReference.Method;
            case ILocalReferenceOperation local when depth < MaxDelegateResolutionDepth:
                {
                    IOperation? assigned = _assigned.SingleValue(local.Local, cancellationToken);
                    return assigned is null ? null : ResolveDelegate(assigned, depth + 1, cancellationToken);
                }

            default:
                return null;
        }
    }

    private static bool Contains(ImmutableArray<IMethodSymbol>.Builder methods, IMethodSymbol method)
    {
        foreach (IMethodSymbol known in methods)
        {
            if (SymbolEqualityComparer.Default.Equals(known, method))
            {
                return true;
            }
        }

        return false;
    }

    public bool HasSourceBody(IMethodSymbol definition)
    {
        if (definition.IsAbstract || definition.IsExtern)
        {
            return false;
        }

        // A default constructor has no syntax of its own; what it runs (the initializers) is in its type's.
        ImmutableArray<SyntaxReference> references = definition.MethodKind == MethodKind.Constructor && definition.IsImplicitlyDeclared && definition.ContainingType is { } type
            ? type.DeclaringSyntaxReferences
            : definition.DeclaringSyntaxReferences;
        foreach (SyntaxReference reference in references)
        {
            if (_models.Compilation.ContainsSyntaxTree(reference.SyntaxTree))
            {
                return true;
            }
        }

        return false;
    }

    public static IMethodSymbol Normalize(IMethodSymbol method)
    {
        IMethodSymbol unreduced = method.ReducedFrom ?? method;
        IMethodSymbol definition = unreduced.OriginalDefinition;
        return definition.PartialImplementationPart ?? definition;
    }

    public static IOperation? StripConversions(IOperation? operation)
    {
        while (operation is IConversionOperation conversion && conversion.OperatorMethod is null)
        {
            operation = conversion.Operand;
        }

        return operation;
    }

    private static string Quote(IMethodSymbol method, IOperation site) =>
        method.MethodKind == MethodKind.AnonymousFunction
            ? "the lambda at line " + BlockingAnalysis.LineOfDeclaration(method, site)
            : "'" + BlockingAnalysis.Display(method) + "'";
}
