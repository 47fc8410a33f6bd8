// The transfer of a call into a method of the compilation: its summary's atomic mappings, its contract with the
// caller (requirements judged at the call, effects applied), its ways out, and what it returns (a reference, a scope
// or a vmap for the caller to give back).
using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace DmaBuf.Analyzers.Engine;

internal sealed partial class FlowEngine
{
    private MethodSummary? SummaryOf(IInvocationOperation invocation)
    {
        IMethodSymbol method = invocation.TargetMethod;
        if (method.MethodKind == MethodKind.LocalFunction)
        {
            IMethodSymbol local = method.OriginalDefinition;
            return _context.Summaries.Get(local, () => LocalFunctionGraph(local), _context.InProgress, _context.CancellationToken);
        }

        if (method.MethodKind == MethodKind.DelegateInvoke)
        {
            if (invocation.Instance is { } instance && BodyFacts.Unwrap(instance) is ILocalReferenceOperation local && _facts.IsStableLocal(local.Local) &&
                _facts.SingleValue(local.Local) is { } value && BodyFacts.Unwrap(value) is IDelegateCreationOperation { Target: IAnonymousFunctionOperation lambda } &&
                _lambdas.TryGetValue(lambda.Symbol, out IFlowAnonymousFunctionOperation? flow))
            {
                return _context.Summaries.Get(lambda.Symbol, () => _cfg.GetAnonymousFunctionControlFlowGraph(flow, _context.CancellationToken), _context.InProgress, _context.CancellationToken);
            }

            return null;
        }

        return _context.Summaries.IsSummarizable(method) ? _context.Summaries.Get(method, _context.InProgress, _context.CancellationToken) : null;
    }

    private ControlFlowGraph? LocalFunctionGraph(IMethodSymbol local)
    {
        for (ControlFlowGraph? graph = _cfg; graph is not null; graph = graph.Parent)
        {
            if (graph.LocalFunctions.Contains(local, SymbolEqualityComparer.Default))
            {
                return graph.GetLocalFunctionControlFlowGraph(local, _context.CancellationToken);
            }
        }

        return null;
    }

    private FlowState? Call(IInvocationOperation invocation, MethodSummary summary, FlowState state)
    {
        if (Reporting && (summary.MaxHeld > 0 || summary.IsRecursive))
        {
            foreach (FlowClient rule in _rules)
            {
                rule.OnCall(_report!, invocation, summary, state);
            }
        }

        if (_final && !_quiet)
        {
            foreach (Config config in state.Configs)
            {
                int peak = summary.PeakFor(config.AtomicCount);
                if (peak > 0)
                {
                    _maxAtomic = Math.Max(_maxAtomic, config.AtomicCount + peak);
                }
            }
        }

        FlowState? afterContracts = Contracts(invocation, summary, state);
        if (summary.NetHeld == 0 || afterContracts is null)
        {
            return afterContracts;
        }

        state = afterContracts;
        int siteId = SiteId(invocation);
        string callee = invocation.TargetMethod.Name;
        FlowState? result = state.Map(c =>
        {
            ImmutableArray<MappingRecord> held = c.Held;
            for (int i = 0; i < summary.NetHeld && held.Count(m => m.SiteId == siteId) < MaxSameSite; i++)
            {
                bool returned = summary.ReturnsPage && i == 0;
                held = held.Add(new MappingRecord(invocation, siteId, -1, null, "?", true, returned ? ImmutableArray.Create(Pending) : ImmutableArray<int>.Empty, true, callee));
            }

            return c.WithHeld(held);
        });
        return summary.ReturnsPage ? ResultUsage(invocation, result) : result;
    }

    /// <summary>
    /// A call checked against and applied with its callee's contract: per buffer argument, a kmap or end that relies on
    /// the caller's access is judged at the call (with the callee's operation as the related location), and the access
    /// the callee ends, leaves begun, or the reference it puts change the caller's state as the callee's own calls would;
    /// a reference or scope the callee returns is the caller's to give back.
    /// </summary>
    private FlowState? Contracts(IInvocationOperation invocation, MethodSummary summary, FlowState state)
    {
        FlowState? current = state;
        string callee = invocation.TargetMethod.Name;
        foreach (IArgumentOperation argument in invocation.Arguments)
        {
            if (current is null)
            {
                return null;
            }

            ParameterContract contract = argument.Parameter is null ? ParameterContract.Unknown : summary.ContractOf(argument.Parameter.Ordinal);
            if (contract.IsUnknown || !contract.HasEffects)
            {
                continue;
            }

            int key = KeyId(argument.Value);
            if (contract.RequiredBy is { } required && key >= 0 && Reporting && IsKmap(required))
            {
                (Interval? page, string pageText) = PageThroughCall(required, invocation);
                var kmap = new KmapEvent(invocation, key, page, pageText, KnownSymbols.IsSame(required.TargetMethod, _symbols.KmapAtomic), new Via(required, callee));
                foreach (FlowClient rule in _rules)
                {
                    rule.OnKmap(_report!, kmap, current);
                }
            }

            if (contract.EndedBy is { } end && key >= 0)
            {
                AccessRange range = TranslatedRange(end, invocation);
                if (Reporting)
                {
                    var via = new Via(end, callee);
                    foreach (FlowClient rule in _rules)
                    {
                        rule.OnEnd(_report!, invocation, key, range, current, via);
                    }
                }

                current = current.Map(c => Ended(c, key, range, invocation));
            }

            if (contract.LeftOpenBy is { } begin && key >= 0 && current is not null)
            {
                var record = new AccessRecord(invocation, SiteId(invocation), key, TranslatedRange(begin, invocation), false, ImmutableArray<int>.Empty, false);
                current = current.Map(c => c.Open.Any(a => a.SiteId == record.SiteId) ? c : c.WithOpen(c.Open.Add(record)).WithEnded(c.Ended.Remove(key)));
            }

            if (contract.PutBy is not null && current is not null)
            {
                ImmutableArray<int> holders = HoldersOf(argument.Value);
                int variable = ReleaseId(argument.Value);
                current = current.Map(c => PutReference(c, holders.Contains(Pending) ? ImmutableArray<int>.Empty : holders, variable, invocation));
            }

            if (contract.VunmappedBy is not null && current is not null)
            {
                // The callee vunmaps the vmap it is given, as a Vunmap here would (through the buffer argument it names).
                current = Vunmap(invocation, ArgumentKey(invocation, contract.VunmapBuffer), argument.Value, isDispose: false, current);
            }
        }

        if (current is not null && !summary.Cases.IsEmpty)
        {
            current = Cases(invocation, summary, current);
        }

        if (current is not null && ReturnedArgument(invocation) is { } returned && UsageOf(invocation) == Usage.Escape)
        {
            // The call returns its argument: handing the result away hands the argument away.
            ImmutableArray<int> holders = HoldersOfExpression(returned);
            int key = KeyId(returned);
            current = current.Map(c => key >= 0 ? EscapeKey(holders.IsEmpty ? c : MarkEscaped(c, holders), key, opens: false) : holders.IsEmpty ? c : MarkEscaped(c, holders));
        }

        if (current is not null && summary.ReturnedReference is { } taken)
        {
            var record = new ResourceRecord(invocation, SiteId(invocation), ResourceKind.Reference, ImmutableArray.Create(Pending), false, KnownSymbols.IsSame(taken.TargetMethod, _symbols.Export), -1, null);
            current = ResultUsage(invocation, current.Map(c => AddResource(c, record)));
        }

        if (current is not null && summary.ReturnedVmap is { } vmap)
        {
            int key = BodyFacts.Unwrap(vmap.Instance!) is IParameterReferenceOperation { Parameter: var parameter } &&
                SymbolEqualityComparer.Default.Equals(parameter.ContainingSymbol, invocation.TargetMethod.OriginalDefinition)
                ? ArgumentKey(invocation, parameter.Ordinal)
                : -1;
            var record = new ResourceRecord(invocation, SiteId(invocation), ResourceKind.Vmap, ImmutableArray.Create(Pending), false, false, -1, null, key);
            current = ResultUsage(invocation, current.Map(c => AddResource(c, record)));
        }

        if (current is not null && summary.ReturnedScope is { } scope && invocation.Arguments.FirstOrDefault(a => a.Parameter?.Ordinal == summary.ScopeParameter) is { } scopeArgument)
        {
            int key = KeyId(scopeArgument.Value);
            var record = new AccessRecord(invocation, SiteId(invocation), key, TranslatedRange(scope, invocation), true, ImmutableArray.Create(Pending), false);
            current = ResultUsage(invocation, current.Map(c => c.Open.Any(a => a.SiteId == record.SiteId && a.Holders.SequenceEqual(record.Holders)) ? c : c.WithOpen(c.Open.Add(record)).WithEnded(key >= 0 ? c.Ended.Remove(key) : c.Ended)));
        }

        return current;
    }

    /// <summary>
    /// A call of a callee whose ways out leave different things: each path goes on once per way out, with what that way
    /// leaves (the access it begun, the reference it put) and the value it returns, so that `if (ret != 0)` after the
    /// call follows the way out that returned it.
    /// </summary>
    private FlowState? Cases(IInvocationOperation invocation, MethodSummary summary, FlowState state)
    {
        if (state.IsTop)
        {
            return state;
        }

        int result = _paths.Keys.ResultKey(invocation);
        var configs = new List<Config>();
        foreach (Config config in state.Configs)
        {
            foreach (ExitCase exit in summary.Cases)
            {
                Config next = config;
                foreach (IArgumentOperation argument in invocation.Arguments)
                {
                    int ordinal = argument.Parameter?.Ordinal ?? -1;
                    if (ordinal < 0 || ordinal >= exit.LeftOpenBy.Length || !summary.ContractOf(ordinal).IsConditional)
                    {
                        continue;
                    }

                    int key = KeyId(argument.Value);
                    if (exit.LeftOpenBy[ordinal] is { } begin && key >= 0)
                    {
                        var record = new AccessRecord(invocation, SiteId(invocation), key, TranslatedRange(begin, invocation), false, ImmutableArray<int>.Empty, false);
                        next = next.Open.Any(a => a.SiteId == record.SiteId) ? next : next.WithOpen(next.Open.Add(record)).WithEnded(next.Ended.Remove(key));
                    }

                    ImmutableArray<int> holders = HoldersOf(argument.Value);
                    if (exit.PutBy[ordinal] is not null)
                    {
                        next = PutReference(next, holders.Contains(Pending) ? ImmutableArray<int>.Empty : holders, ReleaseId(argument.Value), invocation);
                    }

                    if (exit.Kept[ordinal] && !holders.IsEmpty && !holders.Contains(Pending))
                    {
                        // Kept on this way out: the reference is the callee's now.
                        next = MarkEscaped(next, holders);
                    }
                }

                configs.Add(_paths.Set(next, result, exit.Result));
            }
        }

        return FlowState.Of(configs);
    }

    /// <summary>The key of the buffer a call passes as parameter <paramref name="ordinal"/>, or -1.</summary>
    private int ArgumentKey(IInvocationOperation call, int ordinal) =>
        ordinal >= 0 && call.Arguments.FirstOrDefault(a => a.Parameter?.Ordinal == ordinal) is { } argument ? KeyId(argument.Value) : -1;

    /// <summary>The page a callee's kmap maps, seen from the call: a constant, or the argument given for the parameter it is.</summary>
    private (Interval? Page, string Text) PageThroughCall(IInvocationOperation kmap, IInvocationOperation call)
    {
        if (kmap.Arguments.Length == 0)
        {
            return (null, "?");
        }

        IOperation page = kmap.Arguments[0].Value;
        if (page.ConstantValue.HasValue)
        {
            Interval? constant = _values.Evaluate(page);
            return (constant, constant?.ToString() ?? page.Syntax.ToString());
        }

        if (BodyFacts.Unwrap(page) is IParameterReferenceOperation parameter &&
            call.Arguments.FirstOrDefault(a => a.Parameter is not null && a.Parameter.Ordinal == parameter.Parameter.Ordinal) is { } argument)
        {
            Interval? value = _values.Evaluate(argument.Value);
            return (value, value is { IsConstant: true } known ? known.ToString() : argument.Value.Syntax.ToString());
        }

        return (null, page.Syntax.ToString());
    }

    private bool IsKmap(IInvocationOperation call) => KnownSymbols.IsSame(call.TargetMethod, _symbols.Kmap) || KnownSymbols.IsSame(call.TargetMethod, _symbols.KmapAtomic);

    /// <summary>
    /// The range of a begin or end in a callee, seen from the call: constants as they are, expressions over the callee's
    /// parameters as the same expressions over the call's arguments (so that they compare with the caller's ranges).
    /// </summary>
    private AccessRange TranslatedRange(IInvocationOperation calleeCall, IInvocationOperation call)
    {
        IOperation? ArgumentFor(IParameterSymbol parameter) =>
            call.Arguments.FirstOrDefault(a => a.Parameter is not null && a.Parameter.Ordinal == parameter.Ordinal && SymbolEqualityComparer.Default.Equals(a.Parameter.ContainingSymbol.OriginalDefinition, parameter.ContainingSymbol.OriginalDefinition))?.Value;

        Operand Translate(int index)
        {
            if (index >= calleeCall.Arguments.Length)
            {
                return new Operand(null, -1, null);
            }

            IOperation argument = calleeCall.Arguments[index].Value;
            if (argument.ConstantValue.HasValue)
            {
                return new Operand(_values.Evaluate(argument), -1, argument.Syntax);
            }

            int key = _paths.Keys.KeyOf(argument, ArgumentFor);
            return new Operand(null, key, key >= 0 ? CallerSyntax(argument, ArgumentFor) ?? _paths.Keys.SyntaxOf(key) : argument.Syntax);
        }

        bool whole = calleeCall.Arguments.Length == 1;
        Operand direction = Translate(whole ? 0 : 2);
        string directionName = direction.Value is { IsConstant: true } known ? DirectionName(known.Low) : direction.Text ?? "unknown direction";
        return whole ? AccessRange.WholeBuffer(direction, directionName) : new AccessRange(Translate(0), Translate(1), direction, directionName);
    }

    /// <summary>
    /// An expression of a callee written in the caller's terms, for messages and fixes: each of the callee's parameters
    /// replaced by the argument the call gives it (<c>b.Size</c> in <c>Reading(this DmaBuffer b)</c> is <c>buf.Size</c>
    /// at <c>buf.Reading()</c>). Null when a parameter it reads has no argument there.
    /// </summary>
    private static SyntaxNode? CallerSyntax(IOperation expression, Func<IParameterSymbol, IOperation?> argumentFor)
    {
        var replacements = new Dictionary<SyntaxNode, SyntaxNode>();
        foreach (IParameterReferenceOperation reference in expression.DescendantsAndSelf().OfType<IParameterReferenceOperation>())
        {
            if (argumentFor(reference.Parameter)?.Syntax is not ExpressionSyntax value)
            {
                return null;
            }

            value = value.WithoutTrivia();
            replacements[reference.Syntax] = reference.Syntax == expression.Syntax || value is IdentifierNameSyntax or MemberAccessExpressionSyntax or ThisExpressionSyntax or LiteralExpressionSyntax or
                ParenthesizedExpressionSyntax or InvocationExpressionSyntax or ElementAccessExpressionSyntax
                ? value
                : SyntaxFactory.ParenthesizedExpression(value);
        }

        if (replacements.TryGetValue(expression.Syntax, out SyntaxNode? whole))
        {
            return whole;
        }

        return replacements.Count == 0 ? expression.Syntax : expression.Syntax.ReplaceNodes(replacements.Keys, (original, _) => replacements[original].WithTriviaFrom(original));
    }

    /// <summary>The argument a call returns as it came (its callee's summary says so), or null.</summary>
    private IOperation? ReturnedArgument(IInvocationOperation call)
    {
        if (call.TargetMethod.MethodKind == MethodKind.DelegateInvoke || !_context.Summaries.IsSummarizable(call.TargetMethod) || SummaryOf(call) is not { ReturnedParameter: >= 0 } summary)
        {
            return null;
        }

        return call.Arguments.FirstOrDefault(a => a.Parameter?.Ordinal == summary.ReturnedParameter)?.Value;
    }
}
