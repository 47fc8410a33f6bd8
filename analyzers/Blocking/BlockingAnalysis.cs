// The front of the blocking analysis: whether an operation may block, by itself or through the calls it makes; it
// wires the table, sites, summaries and chains and owns no facts of its own.
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace DmaBuf.Analyzers.Blocking;

/// <summary>
/// Decides whether an operation may block (sleep): by itself (<c>await</c>, <c>lock</c>, a <c>[MightSleep]</c> member,
/// the runtime's blocking calls, the <see cref="BlockingCallTable">blocking calls of the base class library</see>, the
/// user's <see cref="AdditionalBlockingMethods">additional blocking methods</see>) or through methods of the compilation
/// that reach one of these, through any depth of calls, and says why as the chain of calls down to it. Create one per
/// compilation and share it: every query is thread-safe, and each method's summary is computed once, on demand.
/// </summary>
/// <remarks>
/// <para>
/// The parts: <see cref="BlockingSites"/> (what an operation does that may block), <see cref="DispatchTargets"/>
/// (which methods a virtual or interface call may run), <see cref="BlockingSummaries"/> (each method's ways of
/// blocking, under guards on its inputs, as a least fixed point safe under recursion), <see cref="InMemoryValues"/> and
/// <see cref="PathFacts"/> (the conditions: in-memory streams and writers, bool arguments, completed tasks), and
/// <see cref="BlockingChains"/> (the message's chain).
/// </para>
/// <para>
/// Precision first: what the analysis cannot see is not blocking. That covers virtual and interface calls whose
/// implementations are all outside the compilation (unless marked or listed), delegates whose target cannot be found in
/// the same body, lambdas that are only created (they run later, if ever), and the bodies of iterators and async
/// methods as far as calling them goes (an iterator runs when enumerated; an async method returns at its first
/// <c>await</c>, so its awaits do not block the caller, though its other blocking calls do).
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

    private readonly KnownSymbols _symbols;
    private readonly BlockingCallTable _table;
    private readonly AdditionalBlockingMethods _additional;
    private readonly SemanticModels _models;
    private readonly BlockingSites _sites;
    private readonly BlockingSummaries _summaries;
    private readonly BlockingChains _chains;
    private readonly PathFacts _facts;
    private readonly ConcurrentDictionary<IMethodSymbol, bool> _declared = new(SymbolEqualityComparer.Default);

    private BlockingAnalysis(Compilation compilation, KnownSymbols symbols, AnalyzerOptions options)
    {
        _symbols = symbols;
        _table = BlockingCallTable.Create(compilation);
        _additional = new AdditionalBlockingMethods(compilation, options);
        _models = new SemanticModels(compilation);
        var assigned = new AssignedValues(_models);
        var values = new InMemoryValues(_table, _models, assigned);
        _facts = new PathFacts(_models, assigned);
        _sites = new BlockingSites(symbols, _table, _additional, new DispatchTargets(compilation), values, assigned, _models, IsDeclaredBlocking);
        _summaries = new BlockingSummaries(_sites, values, _facts, new BlockingBodies(_models), assigned);
        _chains = new BlockingChains(_summaries);
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
    /// adds or removes an event handler, applies a user-defined operator, enumerates) something that may, with the
    /// arguments it passes and on the paths that reach it. Only the operation is judged, not its children: to check a
    /// region, ask about each operation in it (see <see cref="FindBlockingOperations"/>). The operation may be one of a
    /// control flow graph: it is judged as the operation tree's operation at the same syntax.
    /// </summary>
    /// <param name="operation">The operation.</param>
    /// <param name="cancellationToken">Cancels the analysis of callees.</param>
    /// <param name="call">When blocking, the call as a message names it: <c>'Thread.Sleep(int)'</c>, <c>'lock'</c>, <c>'C.Helper()'</c>.</param>
    /// <param name="chain">When blocking through callees, why: <c>(→ Inner → Thread.Sleep at line 12)</c>; else empty.</param>
    /// <param name="enclosing">The method, local function or lambda whose body the operation is in, when the caller knows it (it is looked up otherwise).</param>
    /// <returns>true when the operation may block.</returns>
    public bool IsBlocking(IOperation operation, CancellationToken cancellationToken, out string? call, out string? chain, IMethodSymbol? enclosing = null)
    {
        call = null;
        chain = null;
        if (operation is null)
        {
            return false;
        }

        operation = ToTree(operation, cancellationToken);
        IMethodSymbol? context = enclosing is not null ? BlockingSites.Normalize(enclosing) : EnclosingMethod(operation, cancellationToken);
        BodyFacts? facts = null;
        foreach (Site site in _sites.Classify(operation, cancellationToken))
        {
            Facts here = Facts.None;
            if (context is not null && (BlockingSummaries.NeedsFacts(site) || BlockingSummaries.HasTrackedParameter(context)))
            {
                facts ??= _facts.Of(context, cancellationToken);
                here = facts.At(site.Operation.Syntax);
            }

            var scanned = new ScannedSite(site, _summaries.OwnGuard(site, here, context, cancellationToken), here);
            foreach ((Guard _, int _, IMethodSymbol? target, Way calleeWay) in _summaries.WaysAt(scanned, context, t => _summaries.Get(t, cancellationToken), cancellationToken))
            {
                call = site.Description;
                if (target is null)
                {
                    chain = string.Empty;
                }
                else
                {
                    List<ChainStep> steps = _chains.Explain(target, calleeWay, cancellationToken);
                    if (site.Called is { } called && !SymbolEqualityComparer.Default.Equals(BlockingSites.Normalize(called), target))
                    {
                        // Through a virtual or interface call: name the implementation.
                        steps.Insert(0, new ChainStep(target, null));
                    }

                    chain = BlockingChains.Format(steps, site.Called?.ContainingType, operation.Syntax.SyntaxTree);
                }

                return true;
            }
        }

        return false;
    }

    /// <summary>As <see cref="IsBlocking(IOperation, CancellationToken, out string?, out string?, IMethodSymbol?)"/>, with the call and its chain in one description.</summary>
    /// <param name="operation">The operation.</param>
    /// <param name="cancellationToken">Cancels the analysis of callees.</param>
    /// <param name="description">When blocking: <c>'Thread.Sleep(int)'</c>, <c>'C.Helper()' (→ Thread.Sleep at line 12)</c>.</param>
    /// <returns>true when the operation may block.</returns>
    public bool IsBlocking(IOperation operation, CancellationToken cancellationToken, out string? description)
    {
        bool blocking = IsBlocking(operation, cancellationToken, out string? call, out string? chain);
        description = blocking ? (string.IsNullOrEmpty(chain) ? call : call + " " + chain) : null;
        return blocking;
    }

    /// <summary>
    /// Whether calling <paramref name="method"/> (with arguments that are not known) may block: it is marked
    /// <c>[MightSleep]</c> (or overrides or implements a member that is), is one of the runtime's or the base class
    /// library's blocking calls, is listed in the option, or is a method of the compilation (including a local function
    /// or lambda) whose body may block, transitively.
    /// </summary>
    /// <param name="method">The method.</param>
    /// <param name="cancellationToken">Cancels the analysis.</param>
    /// <param name="reason">
    /// When blocking, why: the chain <c>(→ Inner → Thread.Sleep at line 12)</c>, or <c>it is marked [MightSleep]</c>,
    /// <c>it is a blocking call of the base class library</c>, <c>it is listed in …</c>.
    /// </param>
    /// <returns>true when a call of the method may block.</returns>
    public bool MayBlock(IMethodSymbol method, CancellationToken cancellationToken, out string? reason)
    {
        reason = null;
        if (method is null)
        {
            return false;
        }

        IMethodSymbol definition = BlockingSites.Normalize(method);
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

        if (!_sites.HasSourceBody(definition))
        {
            return false;
        }

        Summary summary = _summaries.Get(definition, cancellationToken);
        if (summary.IsIterator || summary.Ways.IsEmpty)
        {
            return false;
        }

        SyntaxTree? tree = definition.DeclaringSyntaxReferences.IsEmpty ? null : definition.DeclaringSyntaxReferences[0].SyntaxTree;
        reason = BlockingChains.Format(_chains.Explain(definition, summary.Ways[0], cancellationToken), definition.ContainingType, tree);
        return true;
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
            if (IsBlocking(operation, cancellationToken, out string? call, out string? chain))
            {
                result.Add(new BlockingOperation(operation, call!, chain ?? string.Empty));
            }
        }

        return result.ToImmutable();
    }

    /// <summary>
    /// Where to report a blocking operation: the operation itself, except for the statements that block as a whole
    /// (<c>lock</c>, <c>foreach</c>, <c>await using</c>, a <c>using</c> whose disposal blocks), which are
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

    /// <summary>The line a lambda or method is declared at (or the line of <paramref name="fallback"/>).</summary>
    internal static int LineOfDeclaration(IMethodSymbol method, IOperation? fallback)
    {
        foreach (Location location in method.Locations)
        {
            if (location.IsInSource)
            {
                return location.GetLineSpan().StartLinePosition.Line + 1;
            }
        }

        return fallback is null ? 0 : fallback.Syntax.GetLocation().GetLineSpan().StartLinePosition.Line + 1;
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

    /// <summary>
    /// An operation of a control flow graph as the operation tree has it (same syntax, same kind), where arguments are
    /// still the expressions written rather than flow captures; implicit operations of the lowering stay as they are.
    /// </summary>
    private IOperation ToTree(IOperation operation, CancellationToken cancellationToken)
    {
        if (operation.IsImplicit || _models.Get(operation.Syntax.SyntaxTree) is not { } model)
        {
            return operation;
        }

        IOperation? tree = model.GetOperation(operation.Syntax, cancellationToken);
        for (int i = 0; i < 4 && tree is not null && tree.Kind != operation.Kind; i++)
        {
            // An implicit conversion (or the like) shares its operand's syntax.
            IOperation? inner = null;
            foreach (IOperation child in tree.ChildOperations)
            {
                inner = child.Syntax == operation.Syntax ? child : inner;
            }

            tree = inner;
        }

        return tree is not null && tree.Kind == operation.Kind ? tree : operation;
    }

    /// <summary>The method, local function or lambda whose body <paramref name="operation"/> is in.</summary>
    private IMethodSymbol? EnclosingMethod(IOperation operation, CancellationToken cancellationToken) =>
        _models.Get(operation.Syntax.SyntaxTree)?.GetEnclosingSymbol(operation.Syntax.SpanStart, cancellationToken) is IMethodSymbol method
            ? BlockingSites.Normalize(method)
            : null;

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
}

/// <summary>An operation that may block, and what <see cref="BlockingAnalysis.IsBlocking(IOperation, CancellationToken, out string?, out string?, IMethodSymbol?)"/> said of it.</summary>
internal readonly struct BlockingOperation
{
    public BlockingOperation(IOperation operation, string call, string chain)
    {
        Operation = operation;
        Call = call;
        Chain = chain;
    }

    /// <summary>The operation.</summary>
    public IOperation Operation { get; }

    /// <summary>What blocks, e.g. <c>'Thread.Sleep(int)'</c>, <c>'C.Helper()'</c>.</summary>
    public string Call { get; }

    /// <summary>Why, through callees: <c>(→ Thread.Sleep at line 12)</c>; empty for a direct one.</summary>
    public string Chain { get; }

    /// <summary>The call and its chain in one.</summary>
    public string Description => Chain.Length == 0 ? Call : Call + " " + Chain;
}
