// The transfer of vmaps (DMA0012, and the vmap accesses DMA0007 judges): Vmap maps the whole buffer into a vmap held
// by the variable given the result; Vunmap and a vmap's Dispose (explicit, or the one a using makes) give back what
// their argument holds (or, for a vmap the body does not hold, those it handed away); GetSpan is an access to the
// bytes, which the rules judge against the CPU access open on the vmap's buffer (calls of methods that return or vunmap
// a vmap are applied with their summaries, in FlowEngine.Calls). It touches only the vmap records
// of Config.Resources, and reports to the clients through OnVunmap and OnVmapAccess.
using System;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace DmaBuf.Analyzers.Engine;

internal sealed partial class FlowEngine
{
    /// <summary>The transfer of a vmap operation (Vmap, Vunmap, a vmap's Dispose or GetSpan); false for any other call.</summary>
    private bool TryVmapOperation(IInvocationOperation invocation, FlowState state, out FlowState? result)
    {
        IMethodSymbol method = invocation.TargetMethod;
        if (KnownSymbols.IsSame(method, _symbols.Vmap))
        {
            result = Vmap(invocation, state);
            return true;
        }

        if (KnownSymbols.IsSame(method, _symbols.Vunmap))
        {
            IOperation? mapping = invocation.Arguments.Length > 0 ? invocation.Arguments[0].Value : null;
            result = Vunmap(invocation, KeyId(invocation.Instance), mapping, isDispose: false, state);
            return true;
        }

        if (IsVmapDispose(invocation))
        {
            result = Vunmap(invocation, -1, invocation.Instance, isDispose: true, state);
            return true;
        }

        if (KnownSymbols.IsSame(method, _symbols.DmaBufVmapGetSpan))
        {
            if (Reporting && invocation.Instance is { } receiver)
            {
                var access = new VmapAccessEvent(invocation, HoldersOfExpression(receiver));
                foreach (FlowClient rule in _rules)
                {
                    rule.OnVmapAccess(_report!, access, state);
                }
            }

            result = state;
            return true;
        }

        result = null;
        return false;
    }

    /// <summary>A vmap's Dispose: the runtime's, or <c>IDisposable.Dispose</c> on a vmap (the call a using makes).</summary>
    private bool IsVmapDispose(IInvocationOperation invocation)
    {
        IMethodSymbol method = invocation.TargetMethod;
        if (KnownSymbols.IsSame(method, _symbols.DmaBufVmapDispose))
        {
            return true;
        }

        return method.Name == nameof(IDisposable.Dispose) && method.Parameters.Length == 0 && method.ContainingType?.SpecialType == SpecialType.System_IDisposable &&
            invocation.Instance is { } instance && IsVmap(instance);
    }

    private bool IsVmap(IOperation operation)
    {
        IOperation unwrapped = operation is IConversionOperation conversion ? conversion.Operand : operation;
        return SymbolEqualityComparer.Default.Equals(BodyFacts.Unwrap(unwrapped).Type, _symbols.DmaBufVmap) ||
            SymbolEqualityComparer.Default.Equals(unwrapped.Type, _symbols.DmaBufVmap);
    }

    private FlowState? Vmap(IInvocationOperation invocation, FlowState state)
    {
        // Each call maps again (the buffer counts its vmaps); one the body already holds from this site (a loop) is not counted twice.
        var record = new ResourceRecord(invocation, SiteId(invocation), ResourceKind.Vmap, ImmutableArray.Create(Pending), false, false, -1, null, KeyId(invocation.Instance));
        return ResultUsage(invocation, state.Map(c => AddResource(c, record)));
    }

    private FlowState? Vunmap(IInvocationOperation invocation, int key, IOperation? mapping, bool isDispose, FlowState state)
    {
        ImmutableArray<int> holders = mapping is null ? ImmutableArray<int>.Empty : HoldersOf(mapping);
        if (Reporting)
        {
            var vunmap = new VunmapEvent(invocation, key, HoldersOfExpression(mapping), mapping, isDispose);
            foreach (FlowClient rule in _rules)
            {
                rule.OnVunmap(_report!, vunmap, state);
            }
        }

        return state.Map(c => !holders.IsEmpty && VmapHeldBy(c, holders) is { } held ? c.WithResources(c.Resources.Remove(held)) : DropEscapedVmaps(c, key));
    }

    /// <summary>
    /// A vunmap of a vmap the body does not hold (kept in a field, an array, another object): it may be any vmap the body
    /// handed away, so none of those on that buffer (any buffer, when it is not known) is counted as held any more.
    /// </summary>
    private static Config DropEscapedVmaps(Config config, int key)
    {
        bool Matches(ResourceRecord r) => r.Kind == ResourceKind.Vmap && r.Escaped && (key < 0 || r.Key < 0 || r.Key == key);
        return config.Resources.Any(Matches) ? config.WithResources(config.Resources.RemoveAll(Matches)) : config;
    }

    /// <summary>The vmap a variable (or flow capture) holds on this path, or null.</summary>
    public static ResourceRecord? VmapHeldBy(Config config, ImmutableArray<int> holders) => ResourceHeldBy(config, holders, ResourceKind.Vmap);

    /// <summary>
    /// The Vmap (or call of a method that returns the vmap it made) whose result a local holds, when the local is written
    /// exactly once, from such a call of this body, and is not captured: definite assignment then says every path to a
    /// read of it went through that call, so a path on which the local holds no vmap has given it back already.
    /// </summary>
    public IInvocationOperation? VmapHeldByLocal(IOperation? expression) =>
        StableValue(expression) is IInvocationOperation call && (KnownSymbols.IsSame(call.TargetMethod, _symbols.Vmap) || ReturnedVmapOf(call) is not null) ? call : null;

    /// <summary>The buffer a vmap was made on, as the code names it: the receiver of a Vmap, or the argument a helper that returns one vmaps.</summary>
    public string VmapBufferText(IInvocationOperation made)
    {
        if (ReturnedVmapOf(made) is { Instance: { } instance } && BodyFacts.Unwrap(instance) is IParameterReferenceOperation { Parameter: var parameter } &&
            made.Arguments.FirstOrDefault(a => a.Parameter?.Ordinal == parameter.Ordinal) is { } argument)
        {
            return argument.Value.Syntax.ToString();
        }

        return made.Instance is { } receiver ? receiver.Syntax.ToString() : "the buffer";
    }

    /// <summary>The Vmap in a method of the compilation whose vmap a call of it returns, or null.</summary>
    private IInvocationOperation? ReturnedVmapOf(IInvocationOperation call) =>
        call.TargetMethod.MethodKind != MethodKind.DelegateInvoke && SymbolEqualityComparer.Default.Equals(call.TargetMethod.ReturnType, _symbols.DmaBufVmap) ? SummaryOf(call)?.ReturnedVmap : null;
}
