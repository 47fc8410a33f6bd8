using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace DmaBuf.Analyzers.Blocking;

/// <summary>
/// Decides whether an operation may block (sleep): by itself (<c>await</c>, <c>lock</c>, a <c>[MightSleep]</c> member,
/// the runtime's blocking calls, the <see cref="BlockingCallTable">blocking calls of the base class library</see>, the
/// user's <see cref="AdditionalBlockingMethods">additional blocking methods</see>) or through a method of the compilation
/// that reaches one of these, through any depth of calls. Create one per compilation and share it: every query is
/// thread-safe, and each method's summary is computed once.
/// </summary>
/// <remarks>
/// <para>
/// Precision first: what the analysis cannot see is not blocking. That covers virtual and interface calls whose
/// implementation is outside the compilation (unless marked or listed), delegates whose target cannot be found in the
/// same body, lambdas that are only created (they run later, if ever), and the bodies of iterators and async methods
/// as far as calling them goes (an iterator runs when enumerated; an async method returns at its first <c>await</c>,
/// so its awaits do not block the caller, though its other blocking calls do).
/// </para>
/// <para>
/// Recursion and mutual recursion: the summaries of every method reachable from a query are computed together, as
/// the least fixed point of "a method blocks if its body has a blocking operation or calls a method that blocks";
/// so a cycle blocks exactly when something in it (or reached from it) blocks.
/// </para>
/// </remarks>
internal sealed class BlockingAnalysis
{
    private static readonly SymbolDisplayFormat s_format = new(
        globalNamespaceStyle: SymbolDisplayGlobalNamespaceStyle.Omitted,
        typeQualificationStyle: SymbolDisplayTypeQualificationStyle.NameAndContainingTypes,
        genericsOptions: SymbolDisplayGenericsOptions.IncludeTypeParameters,
        memberOptions: SymbolDisplayMemberOptions.IncludeContainingType | SymbolDisplayMemberOptions.IncludeParameters,
        parameterOptions: SymbolDisplayParameterOptions.IncludeType | SymbolDisplayParameterOptions.IncludeParamsRefOut,
        miscellaneousOptions: SymbolDisplayMiscellaneousOptions.UseSpecialTypes | SymbolDisplayMiscellaneousOptions.EscapeKeywordIdentifiers);

    private const int MaxDelegateResolutionDepth = 4;

    private readonly Compilation _compilation;
    private readonly KnownSymbols _symbols;
    private readonly BlockingCallTable _table;
    private readonly AdditionalBlockingMethods _additional;
    private readonly INamedTypeSymbol _disposable;
    private readonly ImmutableHashSet<IMethodSymbol> _runtimeBlocking;
    private readonly ConcurrentDictionary<IMethodSymbol, Summary> _summaries = new(SymbolEqualityComparer.Default);
    private readonly ConcurrentDictionary<IMethodSymbol, bool> _declared = new(SymbolEqualityComparer.Default);
    private readonly ConcurrentDictionary<SyntaxTree, SemanticModel> _models = new();

    private BlockingAnalysis(Compilation compilation, KnownSymbols symbols, AnalyzerOptions options)
    {
        _compilation = compilation;
        _symbols = symbols;
        _table = BlockingCallTable.Create(compilation);
        _additional = new AdditionalBlockingMethods(compilation, options);
        _disposable = compilation.GetSpecialType(SpecialType.System_IDisposable);
        _runtimeBlocking = ImmutableHashSet.Create<IMethodSymbol>(
            SymbolEqualityComparer.Default,
            symbols.Kmap,
            symbols.BeginCpuAccess,
            symbols.CpuAccess,
            symbols.CpuAccessScopeDispose,
            symbols.ValidationMightSleep);
    }

    /// <summary>Creates the analysis for one compilation (call it in a compilation start action).</summary>
    /// <param name="compilation">The compilation.</param>
    /// <param name="symbols">The runtime's symbols in that compilation.</param>
    /// <param name="options">The analyzer options, for <see cref="AdditionalBlockingMethods.OptionName"/>.</param>
    /// <returns>The analysis.</returns>
    public static BlockingAnalysis Create(Compilation compilation, KnownSymbols symbols, AnalyzerOptions options)
    {
        if (compilation is null)
        {
            throw new ArgumentNullException(nameof(compilation));
        }

        if (symbols is null)
        {
            throw new ArgumentNullException(nameof(symbols));
        }

        if (options is null)
        {
            throw new ArgumentNullException(nameof(options));
        }

        return new BlockingAnalysis(compilation, symbols, options);
    }

    /// <summary>
    /// Whether <paramref name="operation"/> itself may block, or calls (invokes, constructs, reads or writes a property,
    /// adds or removes an event handler, applies a user-defined operator) something that may. Only the operation is
    /// judged, not its children: to check a region, ask about each operation in it (see <see cref="FindBlockingOperations"/>).
    /// </summary>
    /// <param name="operation">The operation.</param>
    /// <param name="cancellationToken">Cancels the analysis of callees.</param>
    /// <param name="description">
    /// When blocking, a short description of the call: <c>'Thread.Sleep(int)'</c>, <c>'await'</c>, <c>'lock'</c>,
    /// <c>'C.Helper()' (calls 'Thread.Sleep(int)' at line 12)</c>.
    /// </param>
    /// <returns>true when the operation may block.</returns>
    public bool IsBlocking(IOperation operation, CancellationToken cancellationToken, out string? description)
    {
        description = null;
        if (operation is null)
        {
            return false;
        }

        foreach (Step step in Classify(operation, cancellationToken))
        {
            switch (step.Kind)
            {
                case StepKind.Direct:
                    description = step.Description;
                    return true;
                case StepKind.Call:
                    {
                        Summary summary = GetSummary(step.Callee!, cancellationToken);
                        if (summary.MayBlock)
                        {
                            description = $"{step.Description} (calls {summary.Reason})";
                            return true;
                        }

                        break;
                    }

                case StepKind.Enumerate:
                    {
                        Summary summary = GetSummary(step.Callee!, cancellationToken);
                        if (summary.BodyBlocks)
                        {
                            description = $"'foreach' over {step.Description} (runs {summary.Reason})";
                            return true;
                        }

                        break;
                    }
            }
        }

        return false;
    }

    /// <summary>
    /// Whether calling <paramref name="method"/> may block: it is marked <c>[MightSleep]</c> (or overrides or implements
    /// a member that is), is one of the runtime's or the base class library's blocking calls, is listed in the option,
    /// or is a method of the compilation (including a local function or lambda) whose body may block, transitively.
    /// </summary>
    /// <param name="method">The method.</param>
    /// <param name="cancellationToken">Cancels the analysis.</param>
    /// <param name="reason">
    /// When blocking, why: <c>'Thread.Sleep(int)' at line 12</c> (the first blocking operation of its body, one level
    /// deep), <c>it is marked [MightSleep]</c>, <c>it is a blocking call of the base class library</c>.
    /// </param>
    /// <returns>true when a call of the method may block.</returns>
    public bool MayBlock(IMethodSymbol method, CancellationToken cancellationToken, out string? reason)
    {
        reason = null;
        if (method is null)
        {
            return false;
        }

        IMethodSymbol definition = Normalize(method);
        if (IsDeclaredBlocking(definition))
        {
            reason = "it is marked [MightSleep]";
            return true;
        }

        if (_table.IsBlocking(definition, receiverType: null))
        {
            reason = "it is a blocking call of the base class library";
            return true;
        }

        // Without a call site, the option of the method's own files applies, or the global one for a method in metadata.
        bool listed = _additional.Contains(definition, tree: null);
        foreach (SyntaxReference reference in definition.DeclaringSyntaxReferences)
        {
            listed |= _additional.Contains(definition, reference.SyntaxTree);
        }

        if (listed)
        {
            reason = "it is listed in " + AdditionalBlockingMethods.OptionName;
            return true;
        }

        if (!HasSourceBody(definition))
        {
            return false;
        }

        Summary summary = GetSummary(definition, cancellationToken);
        reason = summary.MayBlock ? summary.Reason : null;
        return summary.MayBlock;
    }

    /// <summary>
    /// Every operation in <paramref name="root"/> (itself included) that may block, in document order, with its
    /// description. The bodies of lambdas and local functions declared there are not part of it; their invocations are.
    /// </summary>
    /// <param name="root">An operation block, a method body, or any operation.</param>
    /// <param name="cancellationToken">Cancels the analysis.</param>
    /// <returns>The blocking operations.</returns>
    public ImmutableArray<BlockingOperation> FindBlockingOperations(IOperation root, CancellationToken cancellationToken)
    {
        ImmutableArray<BlockingOperation>.Builder result = ImmutableArray.CreateBuilder<BlockingOperation>();
        foreach (IOperation operation in Walk(root, cancellationToken))
        {
            if (IsBlocking(operation, cancellationToken, out string? description))
            {
                result.Add(new BlockingOperation(operation, description!));
            }
        }

        return result.ToImmutable();
    }

    /// <summary>
    /// Where to report a blocking operation: the operation itself, except for the statements that block as a whole
    /// (<c>lock</c>, <c>await foreach</c>, <c>await using</c>, a <c>using</c> whose disposal blocks), which are
    /// reported on their first keyword rather than over their whole body.
    /// </summary>
    /// <param name="operation">A blocking operation.</param>
    /// <returns>The location.</returns>
    public static Location GetReportLocation(IOperation operation)
    {
        if (operation is ILockOperation or IForEachLoopOperation or IUsingOperation or IUsingDeclarationOperation)
        {
            return operation.Syntax.GetFirstToken().GetLocation();
        }

        return operation.Syntax.GetLocation();
    }

    /// <summary>A display string for a method, as the descriptions use it (<c>Thread.Sleep(int)</c>, <c>Task&lt;int&gt;.Result</c>).</summary>
    /// <param name="method">The method.</param>
    /// <returns>The display string, without quotes.</returns>
    public static string Display(IMethodSymbol method)
    {
        switch (method.MethodKind)
        {
            case MethodKind.PropertyGet:
            case MethodKind.PropertySet:
            case MethodKind.EventAdd:
            case MethodKind.EventRemove:
                if (method.AssociatedSymbol is { } associated)
                {
                    return associated.ToDisplayString(s_format);
                }

                break;
            case MethodKind.Constructor:
                {
                    var parameters = new string[method.Parameters.Length];
                    for (int i = 0; i < parameters.Length; i++)
                    {
                        parameters[i] = method.Parameters[i].Type.ToDisplayString(s_format);
                    }

                    return "new " + method.ContainingType.ToDisplayString(s_format) + "(" + string.Join(", ", parameters) + ")";
                }
            case MethodKind.AnonymousFunction:
                return "lambda";
        }

        return method.ToDisplayString(s_format);
    }

    private static IMethodSymbol Normalize(IMethodSymbol method)
    {
        IMethodSymbol unreduced = method.ReducedFrom ?? method;
        IMethodSymbol definition = unreduced.OriginalDefinition;
        return definition.PartialImplementationPart ?? definition;
    }

    private static int LineOf(IOperation operation) =>
        operation.Syntax.GetLocation().GetLineSpan().StartLinePosition.Line + 1;

    private static string Quote(IMethodSymbol method, IOperation site) =>
        method.MethodKind == MethodKind.AnonymousFunction
            ? "the lambda at line " + LineOfDeclaration(method, site)
            : "'" + Display(method) + "'";

    private static int LineOfDeclaration(IMethodSymbol method, IOperation fallback)
    {
        foreach (Location location in method.Locations)
        {
            if (location.IsInSource)
            {
                return location.GetLineSpan().StartLinePosition.Line + 1;
            }
        }

        return LineOf(fallback);
    }

    private static IOperation? StripConversions(IOperation? operation)
    {
        while (operation is IConversionOperation conversion && conversion.OperatorMethod is null)
        {
            operation = conversion.Operand;
        }

        return operation;
    }

    /// <summary>Every operation under <paramref name="root"/> in document order, not entering lambdas, local functions or <c>nameof</c>.</summary>
    internal static IEnumerable<IOperation> Walk(IOperation root, CancellationToken cancellationToken)
    {
        var stack = new Stack<IOperation>();
        stack.Push(root);
        var children = new List<IOperation>();
        while (stack.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            IOperation current = stack.Pop();
            yield return current;
            if (current is IAnonymousFunctionOperation or ILocalFunctionOperation or INameOfOperation)
            {
                // Declared here but run elsewhere (or, for nameof, never run at all).
                continue;
            }

            children.Clear();
            foreach (IOperation child in current.ChildOperations)
            {
                children.Add(child);
            }

            for (int i = children.Count - 1; i >= 0; i--)
            {
                stack.Push(children[i]);
            }
        }
    }

    /// <summary>What <paramref name="operation"/> does that may block: usually one step or none; a <c>using</c> of several resources gives one per resource.</summary>
    private IEnumerable<Step> Classify(IOperation operation, CancellationToken cancellationToken)
    {
        switch (operation)
        {
            case IUsingOperation { IsAsynchronous: false } @using:
                return ClassifyDisposal(@using.Resources, operation, cancellationToken);
            case IUsingDeclarationOperation { IsAsynchronous: false } usingDeclaration:
                return ClassifyDisposal(usingDeclaration.DeclarationGroup, operation, cancellationToken);
            default:
                return ClassifyOne(operation, cancellationToken) is { } step ? new[] { step } : Array.Empty<Step>();
        }
    }

    private Step? ClassifyOne(IOperation operation, CancellationToken cancellationToken)
    {
        switch (operation)
        {
            case IAwaitOperation:
                return Step.Direct("'await'", isAwait: true);
            case ILockOperation:
                return Step.Direct("'lock'");
            case IForEachLoopOperation forEach:
                return ClassifyForEach(forEach);
            case IUsingOperation { IsAsynchronous: true }:
            case IUsingDeclarationOperation { IsAsynchronous: true }:
                return Step.Direct("'await using'", isAwait: true);
            case IInvocationOperation invocation:
                return ClassifyCall(invocation.TargetMethod, invocation.Instance, invocation.IsVirtual, invocation.Arguments, operation, cancellationToken);
            case IObjectCreationOperation { Constructor: { } constructor } creation:
                return ClassifyCall(constructor, null, isVirtual: false, creation.Arguments, operation, cancellationToken);
            case IPropertyReferenceOperation property:
                return ClassifyProperty(property, cancellationToken);
            case IEventAssignmentOperation { EventReference: IEventReferenceOperation eventReference } eventAssignment:
                {
                    IMethodSymbol? accessor = eventAssignment.Adds ? eventReference.Event.AddMethod : eventReference.Event.RemoveMethod;
                    return accessor is null ? null : ClassifyCall(accessor, eventReference.Instance, IsVirtualAccess(eventReference.Instance, eventReference.Event), ImmutableArray<IArgumentOperation>.Empty, operation, cancellationToken);
                }

            case IBinaryOperation { OperatorMethod: { } method }:
                return ClassifyCall(method, null, isVirtual: false, ImmutableArray<IArgumentOperation>.Empty, operation, cancellationToken);
            case IUnaryOperation { OperatorMethod: { } method }:
                return ClassifyCall(method, null, isVirtual: false, ImmutableArray<IArgumentOperation>.Empty, operation, cancellationToken);
            case IIncrementOrDecrementOperation { OperatorMethod: { } method }:
                return ClassifyCall(method, null, isVirtual: false, ImmutableArray<IArgumentOperation>.Empty, operation, cancellationToken);
            case ICompoundAssignmentOperation { OperatorMethod: { } method }:
                return ClassifyCall(method, null, isVirtual: false, ImmutableArray<IArgumentOperation>.Empty, operation, cancellationToken);
            case IConversionOperation { OperatorMethod: { } method }:
                return ClassifyCall(method, null, isVirtual: false, ImmutableArray<IArgumentOperation>.Empty, operation, cancellationToken);
            default:
                return null;
        }
    }

    /// <summary>
    /// Whether a property or event access dispatches virtually. A <c>base.</c> access does not, but devirtualizing it
    /// on its receiver's static type (the base class) finds the same member, so it needs no special case.
    /// </summary>
    private static bool IsVirtualAccess(IOperation? instance, ISymbol member) =>
        instance is not null &&
        (member.IsVirtual || member.IsAbstract || member.IsOverride || member.ContainingType?.TypeKind == TypeKind.Interface);

    private Step? ClassifyForEach(IForEachLoopOperation forEach)
    {
        if (forEach.IsAsynchronous)
        {
            return Step.Direct("'await foreach'", isAwait: true);
        }

        if (StripConversions(forEach.Collection) is not IInvocationOperation invocation)
        {
            return null;
        }

        IMethodSymbol target = invocation.TargetMethod;
        IMethodSymbol definition = Normalize(target);
        if (_table.IsBlockingWhenEnumerated(definition))
        {
            return Step.Direct(() => $"'foreach' over '{Display(target)}'");
        }

        // An iterator's body runs when the loop enumerates it: the loop is where it may block.
        if (!invocation.IsVirtual && HasSourceBody(definition))
        {
            return Step.Enumerate(definition, () => "'" + Display(target) + "'");
        }

        return null;
    }

    private IEnumerable<Step> ClassifyDisposal(IOperation resources, IOperation site, CancellationToken cancellationToken)
    {
        foreach (ITypeSymbol? type in ResourceTypes(resources))
        {
            if (type is null || _disposable.TypeKind == TypeKind.Error)
            {
                continue;
            }

            IMethodSymbol? dispose = null;
            foreach (ISymbol member in _disposable.GetMembers("Dispose"))
            {
                if (member is IMethodSymbol interfaceDispose && type.FindImplementationForInterfaceMember(interfaceDispose) is IMethodSymbol implementation)
                {
                    dispose = implementation;
                }
            }

            if (dispose is null)
            {
                continue;
            }

            Step? step = ClassifyCall(dispose, null, isVirtual: false, ImmutableArray<IArgumentOperation>.Empty, site, cancellationToken);
            if (step is not null)
            {
                yield return step.WithDescription(() => step.Description + " at the end of the 'using'");
            }
        }
    }

    private static IEnumerable<ITypeSymbol?> ResourceTypes(IOperation resources)
    {
        if (resources is IVariableDeclarationGroupOperation group)
        {
            foreach (IVariableDeclarationOperation declaration in group.Declarations)
            {
                foreach (IVariableDeclaratorOperation declarator in declaration.Declarators)
                {
                    yield return declarator.Symbol.Type;
                }
            }
        }
        else
        {
            yield return StripConversions(resources)?.Type;
        }
    }

    private Step? ClassifyProperty(IPropertyReferenceOperation reference, CancellationToken cancellationToken)
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
        if (reads && property.GetMethod is { } getter)
        {
            Step? step = ClassifyCall(getter, reference.Instance, isVirtual, reference.Arguments, reference, cancellationToken);
            if (step is not null)
            {
                return step;
            }
        }

        if (writes && property.SetMethod is { } setter)
        {
            return ClassifyCall(setter, reference.Instance, isVirtual, reference.Arguments, reference, cancellationToken);
        }

        return null;
    }

    private Step? ClassifyCall(IMethodSymbol method, IOperation? instance, bool isVirtual, ImmutableArray<IArgumentOperation> arguments, IOperation site, CancellationToken cancellationToken)
    {
        IOperation? receiver = StripConversions(instance);
        ITypeSymbol? receiverType = receiver?.Type;
        IMethodSymbol called = isVirtual && receiverType is not null ? Devirtualize(method, receiverType) : method;
        IMethodSymbol definition = Normalize(called);

        if (_runtimeBlocking.Contains(definition) || IsDeclaredBlocking(definition))
        {
            return Step.Direct(() => "'" + Display(called) + "'");
        }

        if (_table.IsBlocking(definition, receiverType) && !(_table.ZeroTimeoutPolls(definition) && PollsOnly(arguments)))
        {
            return Step.Direct(() => "'" + Display(called) + "'");
        }

        if (_additional.Contains(definition, site.Syntax.SyntaxTree))
        {
            return Step.Direct(() => "'" + Display(called) + "'");
        }

        if (definition.MethodKind == MethodKind.DelegateInvoke)
        {
            IMethodSymbol? target = ResolveDelegate(instance, site, 0, cancellationToken);
            if (target is null)
            {
                return null;
            }

            IMethodSymbol targetDefinition = Normalize(target);
            if (targetDefinition.MethodKind != MethodKind.AnonymousFunction)
            {
                // A method group: judge it as a direct call of that method.
                return ClassifyCall(target, null, isVirtual: false, arguments, site, cancellationToken);
            }

            return HasSourceBody(targetDefinition) ? Step.Call(targetDefinition, () => Quote(targetDefinition, site)) : null;
        }

        if (isVirtual && SymbolEqualityComparer.Default.Equals(called, method) && (method.IsAbstract || method.ContainingType?.TypeKind == TypeKind.Interface))
        {
            return null;
        }

        return HasSourceBody(definition) ? Step.Call(definition, () => Quote(called, site)) : null;
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

            if (value is IFieldReferenceOperation field && _table.TimeSpanZero is not null && SymbolEqualityComparer.Default.Equals(field.Field.OriginalDefinition, _table.TimeSpanZero))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The most derived override of <paramref name="method"/> that a receiver of static type <paramref name="receiverType"/> has.</summary>
    private static IMethodSymbol Devirtualize(IMethodSymbol method, ITypeSymbol receiverType)
    {
        if (method.IsStatic || receiverType.TypeKind is TypeKind.Interface or TypeKind.TypeParameter or TypeKind.Error or TypeKind.Dynamic)
        {
            return method;
        }

        if (method.ContainingType?.TypeKind == TypeKind.Interface)
        {
            // The implementation may itself be virtual (an abstract class implements the interface, a subclass overrides).
            if (receiverType.FindImplementationForInterfaceMember(method) is not IMethodSymbol implementation)
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
    /// The lambda or method a delegate value refers to, when it can be told from the operation tree: a lambda or
    /// method group converted in place, or a local assigned exactly once (and never passed by reference).
    /// </summary>
    private IMethodSymbol? ResolveDelegate(IOperation? value, IOperation site, int depth, CancellationToken cancellationToken)
    {
        value = StripConversions(value);
        switch (value)
        {
            case IDelegateCreationOperation creation:
                return ResolveDelegate(creation.Target, site, depth, cancellationToken);
            case IAnonymousFunctionOperation lambda:
                return lambda.Symbol;
            case IFlowAnonymousFunctionOperation flowLambda:
                return flowLambda.Symbol;
            case IMethodReferenceOperation methodReference when !methodReference.IsVirtual:
                return methodReference.Method;
            case ILocalReferenceOperation local when depth < MaxDelegateResolutionDepth:
                {
                    IOperation? assigned = SingleAssignedValue(local.Local, cancellationToken);
                    return assigned is null ? null : ResolveDelegate(assigned, site, depth + 1, cancellationToken);
                }

            default:
                return null;
        }
    }

    /// <summary>
    /// The one value ever assigned to <paramref name="local"/>, looked up in the operation tree of the body that
    /// declares it (so that it works the same for an operation of a control flow graph, whose own tree is only
    /// one statement), or null when it is assigned more than once, by reference, or not at all.
    /// </summary>
    private IOperation? SingleAssignedValue(ILocalSymbol local, CancellationToken cancellationToken)
    {
        IOperation? root = null;
        foreach (SyntaxReference reference in local.DeclaringSyntaxReferences)
        {
            if (_compilation.ContainsSyntaxTree(reference.SyntaxTree))
            {
                root = GetModel(reference.SyntaxTree).GetOperation(reference.GetSyntax(cancellationToken), cancellationToken);
                break;
            }
        }

        if (root is null)
        {
            return null;
        }

        while (root.Parent is not null)
        {
            root = root.Parent;
        }

        IOperation? value = null;
        int writes = 0;
        var stack = new Stack<IOperation>();
        stack.Push(root);
        while (stack.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            IOperation current = stack.Pop();
            switch (current)
            {
                case IVariableDeclaratorOperation declarator when SymbolEqualityComparer.Default.Equals(declarator.Symbol, local):
                    IOperation? initial = declarator.Initializer?.Value ?? (declarator.Parent as IVariableDeclarationOperation)?.Initializer?.Value;
                    if (initial is not null)
                    {
                        value = initial;
                        writes++;
                    }

                    break;
                case ILocalReferenceOperation reference when SymbolEqualityComparer.Default.Equals(reference.Local, local):
                    switch (reference.Parent)
                    {
                        case ISimpleAssignmentOperation assignment when assignment.Target == reference:
                            value = assignment.Value;
                            writes++;
                            break;
                        case IAssignmentOperation assignment when assignment.Target == reference:
                        case IArgumentOperation { Parameter.RefKind: not RefKind.None }:
                        case ITupleOperation:
                        case IDeclarationExpressionOperation:
                            writes += 2;
                            break;
                    }

                    if (reference.IsDeclaration)
                    {
                        writes += 2;
                    }

                    break;
            }

            foreach (IOperation child in current.ChildOperations)
            {
                stack.Push(child);
            }
        }

        return writes == 1 ? value : null;
    }

    private bool HasSourceBody(IMethodSymbol definition)
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
            if (_compilation.ContainsSyntaxTree(reference.SyntaxTree))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether the method, what it overrides or implements, or its property or event carries [MightSleep].</summary>
    private bool IsDeclaredBlocking(IMethodSymbol definition) => _declared.GetOrAdd(definition, ComputeDeclaredBlocking);

    private bool ComputeDeclaredBlocking(IMethodSymbol definition)
    {
        for (IMethodSymbol? current = definition; current is not null; current = current.OverriddenMethod)
        {
            if (HasMightSleepOnMethodOrMember(current))
            {
                return true;
            }

            foreach (IMethodSymbol implemented in current.ExplicitInterfaceImplementations)
            {
                if (HasMightSleepOnMethodOrMember(implemented))
                {
                    return true;
                }
            }

            INamedTypeSymbol? type = current.ContainingType;
            if (type is null || current.IsStatic)
            {
                continue;
            }

            foreach (INamedTypeSymbol @interface in type.AllInterfaces)
            {
                foreach (ISymbol member in @interface.GetMembers(current.Name))
                {
                    if (member is IMethodSymbol interfaceMethod &&
                        SymbolEqualityComparer.Default.Equals(type.FindImplementationForInterfaceMember(interfaceMethod)?.OriginalDefinition, current.OriginalDefinition) &&
                        HasMightSleepOnMethodOrMember(interfaceMethod))
                    {
                        return true;
                    }
                }
            }
        }

        return false;
    }

    private bool HasMightSleepOnMethodOrMember(IMethodSymbol method) =>
        _symbols.HasMightSleep(method) || (method.AssociatedSymbol is { } associated && _symbols.HasMightSleep(associated));

    private SemanticModel GetModel(SyntaxTree tree) =>
#pragma warning disable RS1030 // The callees' bodies live in other trees than the one being analyzed; one model per tree, cached.
        _models.GetOrAdd(tree, t => _compilation.GetSemanticModel(t));
#pragma warning restore RS1030

    private Summary GetSummary(IMethodSymbol method, CancellationToken cancellationToken)
    {
        if (_summaries.TryGetValue(method, out Summary? cached))
        {
            return cached;
        }

        // Scan every method reachable from this one that has no summary yet.
        var scans = new Dictionary<IMethodSymbol, MethodScan>(SymbolEqualityComparer.Default);
        var order = new List<IMethodSymbol>();
        var pending = new Stack<IMethodSymbol>();
        pending.Push(method);
        while (pending.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            IMethodSymbol current = pending.Pop();
            if (scans.ContainsKey(current) || _summaries.ContainsKey(current))
            {
                continue;
            }

            MethodScan scan = Scan(current, cancellationToken);
            scans.Add(current, scan);
            order.Add(current);
            foreach (Step step in scan.Steps)
            {
                if (step.Callee is { } callee && !scans.ContainsKey(callee) && !_summaries.ContainsKey(callee))
                {
                    pending.Push(callee);
                }
            }
        }

        // Least fixed point, as shortest paths: a method's depth is 0 when its body blocks by itself, else one more
        // than the least depth of a blocking callee. Depths are unique whatever order the queries come in, and the
        // reason chosen from them (the first operation in the body that reaches the least depth) always leads to a
        // real blocking operation, even through cycles. Dijkstra over buckets: every edge weighs 1, but the
        // summaries computed earlier enter with their own depths.
        var depths = new Dictionary<IMethodSymbol, int>(SymbolEqualityComparer.Default);
        var callers = new Dictionary<IMethodSymbol, List<KeyValuePair<IMethodSymbol, StepKind>>>(SymbolEqualityComparer.Default);
        var buckets = new SortedDictionary<int, Queue<IMethodSymbol>>();
        foreach (IMethodSymbol current in order)
        {
            int best = int.MaxValue;
            foreach (Step step in scans[current].Steps)
            {
                if (step.Kind == StepKind.Direct)
                {
                    best = 0;
                }
                else if (_summaries.TryGetValue(step.Callee!, out Summary? summary))
                {
                    if (Reaches(step.Kind, summary.BodyBlocks, summary.IsIterator))
                    {
                        best = Math.Min(best, summary.Depth + 1);
                    }
                }
                else
                {
                    if (!callers.TryGetValue(step.Callee!, out List<KeyValuePair<IMethodSymbol, StepKind>>? list))
                    {
                        list = new List<KeyValuePair<IMethodSymbol, StepKind>>();
                        callers.Add(step.Callee!, list);
                    }

                    list.Add(new KeyValuePair<IMethodSymbol, StepKind>(current, step.Kind));
                }
            }

            if (best != int.MaxValue)
            {
                depths[current] = best;
                Enqueue(buckets, best, current);
            }
        }

        var done = new HashSet<IMethodSymbol>(SymbolEqualityComparer.Default);
        while (buckets.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            KeyValuePair<int, Queue<IMethodSymbol>> first = default;
            foreach (KeyValuePair<int, Queue<IMethodSymbol>> bucket in buckets)
            {
                first = bucket;
                break;
            }

            IMethodSymbol current = first.Value.Dequeue();
            if (first.Value.Count == 0)
            {
                buckets.Remove(first.Key);
            }

            if (depths[current] != first.Key || !done.Add(current) || !callers.TryGetValue(current, out List<KeyValuePair<IMethodSymbol, StepKind>>? edges))
            {
                continue;
            }

            bool isIterator = scans[current].IsIterator;
            foreach (KeyValuePair<IMethodSymbol, StepKind> edge in edges)
            {
                if (Reaches(edge.Value, bodyBlocks: true, isIterator) && (!depths.TryGetValue(edge.Key, out int known) || known > first.Key + 1))
                {
                    depths[edge.Key] = first.Key + 1;
                    Enqueue(buckets, first.Key + 1, edge.Key);
                }
            }
        }

        foreach (IMethodSymbol current in order)
        {
            MethodScan scan = scans[current];
            Step? reason = null;
            int depth = depths.TryGetValue(current, out int found) ? found : -1;
            if (depth >= 0)
            {
                foreach (Step step in scan.Steps)
                {
                    if (depth == 0 ? step.Kind == StepKind.Direct : step.Kind != StepKind.Direct && CalleeDepth(step, scans, depths) == depth - 1)
                    {
                        reason = step;
                        break;
                    }
                }
            }

            _summaries.TryAdd(current, new Summary(reason is not null, scan.IsIterator, reason, reason is null ? -1 : depth));
        }

        return _summaries[method];
    }

    private static bool Reaches(StepKind kind, bool bodyBlocks, bool isIterator) =>
        bodyBlocks && (kind == StepKind.Enumerate || !isIterator);

    private static void Enqueue(SortedDictionary<int, Queue<IMethodSymbol>> buckets, int depth, IMethodSymbol method)
    {
        if (!buckets.TryGetValue(depth, out Queue<IMethodSymbol>? queue))
        {
            queue = new Queue<IMethodSymbol>();
            buckets.Add(depth, queue);
        }

        queue.Enqueue(method);
    }

    /// <summary>The depth a call or enumeration step reaches through its callee, or -1 when it does not block.</summary>
    private int CalleeDepth(Step step, Dictionary<IMethodSymbol, MethodScan> scans, Dictionary<IMethodSymbol, int> depths)
    {
        IMethodSymbol callee = step.Callee!;
        if (scans.TryGetValue(callee, out MethodScan? scan))
        {
            return depths.TryGetValue(callee, out int depth) && Reaches(step.Kind, bodyBlocks: true, scan.IsIterator) ? depth : -1;
        }

        return _summaries.TryGetValue(callee, out Summary? summary) && Reaches(step.Kind, summary.BodyBlocks, summary.IsIterator) ? summary.Depth : -1;
    }

    private MethodScan Scan(IMethodSymbol method, CancellationToken cancellationToken)
    {
        var steps = new List<Step>();
        bool isIterator = false;
        bool isAsync = method.IsAsync;
        foreach (IOperation body in GetBodies(method, cancellationToken))
        {
            foreach (IOperation operation in Walk(body, cancellationToken))
            {
                if (operation is IReturnOperation { Kind: OperationKind.YieldReturn or OperationKind.YieldBreak })
                {
                    isIterator = true;
                }

                foreach (Step step in Classify(operation, cancellationToken))
                {
                    if (!(isAsync && step.IsAwait))
                    {
                        steps.Add(step.At(operation));
                    }
                }
            }
        }

        return new MethodScan(steps, isIterator);
    }

    private IEnumerable<IOperation> GetBodies(IMethodSymbol method, CancellationToken cancellationToken)
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
            if (!_compilation.ContainsSyntaxTree(reference.SyntaxTree))
            {
                continue;
            }

            SyntaxNode node = reference.GetSyntax(cancellationToken);
            IOperation? operation = GetModel(reference.SyntaxTree).GetOperation(node, cancellationToken);
            switch (operation)
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
                if (!_compilation.ContainsSyntaxTree(reference.SyntaxTree))
                {
                    continue;
                }

                SemanticModel model = GetModel(reference.SyntaxTree);
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

    private enum StepKind
    {
        Direct,
        Call,
        Enumerate,
    }

    /// <summary>
    /// One thing in a body that blocks by itself, or calls or enumerates a method of the compilation. Its description
    /// (and the line it is at) is only worked out when asked for: most steps are classified and never reported.
    /// </summary>
    private sealed class Step
    {
        private readonly Func<string>? _describe;
        private readonly IOperation? _at;
        private string? _description;

        private Step(StepKind kind, string? description, Func<string>? describe, IMethodSymbol? callee, bool isAwait, IOperation? at)
        {
            Kind = kind;
            _description = description;
            _describe = describe;
            Callee = callee;
            IsAwait = isAwait;
            _at = at;
        }

        public StepKind Kind { get; }

        public string Description => _description ??= _describe!();

        public IMethodSymbol? Callee { get; }

        public bool IsAwait { get; }

        /// <summary>The line of the operation the step was found at in a scanned body (0 when it was not).</summary>
        public int Line => _at is null ? 0 : LineOf(_at);

        public static Step Direct(string description, bool isAwait = false) => new(StepKind.Direct, description, null, null, isAwait, null);

        public static Step Direct(Func<string> describe) => new(StepKind.Direct, null, describe, null, false, null);

        public static Step Call(IMethodSymbol callee, Func<string> describe) => new(StepKind.Call, null, describe, callee, false, null);

        public static Step Enumerate(IMethodSymbol callee, Func<string> describe) => new(StepKind.Enumerate, null, describe, callee, false, null);

        public Step At(IOperation operation) => new(Kind, _description, _describe, Callee, IsAwait, operation);

        public Step WithDescription(Func<string> describe) => new(Kind, null, describe, Callee, IsAwait, _at);
    }

    private sealed class MethodScan
    {
        public MethodScan(List<Step> steps, bool isIterator)
        {
            Steps = steps;
            IsIterator = isIterator;
        }

        public List<Step> Steps { get; }

        public bool IsIterator { get; }
    }

    /// <summary>What calling a method of the compilation does, computed once.</summary>
    private sealed class Summary
    {
        private readonly Step? _reason;
        private string? _reasonText;

        public Summary(bool bodyBlocks, bool isIterator, Step? reason, int depth)
        {
            BodyBlocks = bodyBlocks;
            IsIterator = isIterator;
            _reason = reason;
            Depth = depth;
        }

        /// <summary>How many calls away the nearest blocking operation is (0: in the body itself); -1 when it does not block.</summary>
        public int Depth { get; }

        /// <summary>Whether running the body may block.</summary>
        public bool BodyBlocks { get; }

        /// <summary>Whether the method is an iterator, whose body runs only when enumerated.</summary>
        public bool IsIterator { get; }

        /// <summary>Whether calling the method may block.</summary>
        public bool MayBlock => BodyBlocks && !IsIterator;

        /// <summary>The first blocking operation of the body, with its line (worked out when first asked for).</summary>
        public string? Reason => _reason is null ? null : _reasonText ??= $"{_reason.Description} at line {_reason.Line}";
    }
}

/// <summary>An operation that may block, and the description <see cref="BlockingAnalysis.IsBlocking"/> gave it.</summary>
internal readonly struct BlockingOperation
{
    public BlockingOperation(IOperation operation, string description)
    {
        Operation = operation;
        Description = description;
    }

    /// <summary>The operation.</summary>
    public IOperation Operation { get; }

    /// <summary>What blocks, e.g. <c>'Thread.Sleep(int)'</c>.</summary>
    public string Description { get; }
}
