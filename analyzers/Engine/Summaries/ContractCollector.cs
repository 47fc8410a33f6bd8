// Collects a method's contract with its callers while the engine runs over its body with no rules: per buffer
// parameter, the kmap or end that relies on access the caller began, the begin left open, the end of the caller's
// access and the Put of the caller's reference that happen on every way the method returns; per vmap parameter, the
// vunmap of the caller's vmap that happens on every way it returns. What differs from path to path is not a contract:
// the parameter is then Unknown, and the method's own rules report what is wrong in it.
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace DmaBuf.Analyzers.Engine;

internal sealed class ContractCollector : FlowClient
{
    private readonly IMethodSymbol _method;
    private const int MaxCases = 4;

    private readonly Parameter[] _parameters;
    private readonly List<ExitCase> _cases = new();
    private int _exits;

    public ContractCollector(IMethodSymbol method)
    {
        _method = method;
        _parameters = method.Parameters.Select(_ => new Parameter()).ToArray();
    }

    /// <summary>The contract of each parameter, once the engine has run; <paramref name="keeps"/> tells which the body may keep.</summary>
    public ImmutableArray<ParameterContract> Contracts(System.Func<IParameterSymbol, bool> keeps)
    {
        var contracts = ImmutableArray.CreateBuilder<ParameterContract>(_parameters.Length);
        bool cases = _cases.Count is > 1 and <= MaxCases;
        for (int i = 0; i < _parameters.Length; i++)
        {
            Parameter p = _parameters[i];
            bool all(int count) => _exits > 0 && count == _exits;
            bool keptOnSome = p.KeptExits > 0 && !all(p.KeptExits);
            if (p.Mixed || all(p.KeptExits) || keeps(_method.Parameters[i]) && !keptOnSome)
            {
                contracts.Add(ParameterContract.Unknown);
                continue;
            }

            if (p.VunmappedExits > 0)
            {
                // The caller's vmap is given back on every way out, by vunmaps the body made on every path to them, or nothing is known.
                contracts.Add(p.VunmappedBy is { } vunmap && all(p.VunmappedExits) && p.KeptExits == 0 ? ParameterContract.Vunmapped(vunmap, p.VunmapBuffer) : ParameterContract.Unknown);
                continue;
            }

            if (p.EndedBy is not null && !all(p.EndedExits))
            {
                contracts.Add(ParameterContract.Unknown);
                continue;
            }

            if (p.OpenExits > 0 && !all(p.OpenExits) && !OpenIsToldByResult(i))
            {
                // Begun on some ways out and not on others the caller cannot tell apart: a bug of the method itself.
                contracts.Add(ParameterContract.Unknown);
                continue;
            }

            if (p.OpenExits > 0 && !all(p.OpenExits) || p.PutExits > 0 && !all(p.PutExits) || keptOnSome)
            {
                // Left open or put on some ways out only: the ways out tell which (Cases), or nothing is known.
                contracts.Add(cases && p.EndedBy is null ? ParameterContract.Conditional(p.RequiredBy) : ParameterContract.Unknown);
                continue;
            }

            contracts.Add(ParameterContract.Of(p.RequiredBy, p.EndedBy, all(p.OpenExits) ? p.LeftOpenBy : null, all(p.PutExits) ? p.PutBy : null));
        }

        return contracts.MoveToImmutable();
    }

    /// <summary>
    /// Whether the ways out that leave parameter <paramref name="ordinal"/>'s access begun return values that the others
    /// never return (0 for success, a negative errno for failure), so that the caller can tell by the result.
    /// </summary>
    private bool OpenIsToldByResult(int ordinal)
    {
        foreach (ExitCase open in _cases)
        {
            foreach (ExitCase other in _cases)
            {
                if (!ReferenceEquals(open.LeftOpenBy[ordinal], other.LeftOpenBy[ordinal]) && !open.Result.Meet(other.Result).IsEmpty)
                {
                    return false;
                }
            }
        }

        return _cases.Count is > 1 and <= MaxCases;
    }

    /// <summary>The ways the method returns, when they leave the caller different things (at most <see cref="MaxCases"/>).</summary>
    public ImmutableArray<ExitCase> Cases(ImmutableArray<ParameterContract> contracts) =>
        _cases.Count is > 1 and <= MaxCases && contracts.Any(c => c.IsConditional) ? _cases.ToImmutableArray() : ImmutableArray<ExitCase>.Empty;

    public override void OnKmap(FlowReport report, KmapEvent kmap, FlowState before)
    {
        if (ParameterOf(report, kmap.Key) is not { } p || before.IsTop)
        {
            return;
        }

        // A kmap with nothing begun in the body, on every path, relies on the caller's access.
        if (before.Configs.All(c => !c.OpenOn(kmap.Key).Any() && report.MayHaveUnknownAccess(c, kmap.Key)))
        {
            p.RequiredBy ??= kmap.Via?.Site ?? kmap.Call;
        }
        else if (before.Configs.Any(c => !c.OpenOn(kmap.Key).Any() && report.MayHaveUnknownAccess(c, kmap.Key)))
        {
            p.Mixed = true;
        }
    }

    public override void OnEnd(FlowReport report, IInvocationOperation end, int key, AccessRange range, FlowState before, Via? via)
    {
        if (ParameterOf(report, key) is not { } p || before.IsTop)
        {
            return;
        }

        int external = before.Configs.Count(c => report.Engine.MatchEnd(c, key, range).Match == EndMatch.External);
        if (external == before.Configs.Length)
        {
            IInvocationOperation site = via?.Site ?? end;
            p.RequiredBy ??= site;
            p.EndedBy ??= site;
        }
        else if (external > 0)
        {
            p.Mixed = true;
        }
    }

    public override void OnVunmap(FlowReport report, VunmapEvent vunmap, FlowState before)
    {
        if (before.IsTop)
        {
            return;
        }

        for (int i = 0; i < _parameters.Length; i++)
        {
            int site = FlowEngine.CallerReferenceSite(i);
            bool Vunmaps(Config c) => FlowEngine.VmapHeldBy(c, vunmap.Holders) is { SiteId: var held, Escaped: false } && held == site;
            int vunmapping = vunmap.Holders.IsEmpty ? 0 : before.Configs.Count(Vunmaps);
            Parameter p = _parameters[i];
            if (vunmapping == before.Configs.Length)
            {
                // The caller's vmap, held on every path to this vunmap; through which buffer parameter, if one.
                int through = vunmap.IsDispose ? -1 : ParameterOrdinal(report, vunmap.Key);
                p.VunmapBuffer = p.VunmappedBy is null || p.VunmapBuffer == through ? through : -1;
                p.VunmappedBy ??= vunmap.Call;
            }
            else if (vunmapping > 0 || before.Configs.Any(c => c.Resources.Any(r => r.SiteId == site && r.Kind == ResourceKind.Vmap && r.Escaped)))
            {
                // Vunmapped on some paths to here only, or possibly through where the body handed it: not a contract.
                p.Mixed = true;
            }
        }
    }

    public override void OnExit(FlowReport report, ExitPath exit, FlowState state)
    {
        if (exit.IsThrow || state.IsTop)
        {
            return;
        }

        foreach (Config config in state.Configs)
        {
            _exits++;
            var opens = new IInvocationOperation?[_parameters.Length];
            var puts = new IInvocationOperation?[_parameters.Length];
            var kept = new bool[_parameters.Length];
            for (int i = 0; i < _parameters.Length; i++)
            {
                IParameterSymbol parameter = _method.Parameters[i];
                Parameter p = _parameters[i];
                int key = KeyOf(report, parameter);
                if (key >= 0)
                {
                    AccessRecord? open = config.Open.FirstOrDefault(a => a.Key == key && !a.Escaped && !a.IsScope && a.Site is IInvocationOperation);
                    if (open is not null)
                    {
                        opens[i] = (IInvocationOperation)open.Site;
                        p.OpenExits++;
                        p.LeftOpenBy ??= (IInvocationOperation)open.Site;
                        if (!ReferenceEquals(p.LeftOpenBy, open.Site))
                        {
                            p.Mixed = true;
                        }
                    }

                    if (p.EndedBy is not null && !report.MayHaveUnknownAccess(config, key) && !config.OpenOn(key).Any())
                    {
                        p.EndedExits++;
                    }
                }

                if (config.Resources.Any(r => r.SiteId == FlowEngine.CallerReferenceSite(i) && r.Escaped))
                {
                    kept[i] = true;
                    p.KeptExits++;
                }

                if (SymbolEqualityComparer.Default.Equals(parameter.Type, report.Context.Symbols.DmaBufVmap) && parameter.RefKind == RefKind.None &&
                    !config.Resources.Any(r => r.SiteId == FlowEngine.CallerReferenceSite(i) && r.Kind == ResourceKind.Vmap))
                {
                    p.VunmappedExits++;
                }

                int variable = report.Engine.ParameterReleaseId(parameter);
                if (variable != FlowEngine.NoVariable && config.Released.TryGetValue(variable, out IOperation? put) && put is IInvocationOperation putCall)
                {
                    p.PutExits++;
                    p.PutBy ??= putCall;
                    puts[i] = putCall;
                }
            }

            AddCase(exit.ReturnValue is null ? Fact.Unknown : report.Engine.FactOf(config, exit.ReturnValue), opens.ToImmutableArray(), puts.ToImmutableArray(), kept.ToImmutableArray());
        }
    }

    private void AddCase(Fact result, ImmutableArray<IInvocationOperation?> opens, ImmutableArray<IInvocationOperation?> puts, ImmutableArray<bool> kept)
    {
        for (int i = 0; i < _cases.Count; i++)
        {
            if (_cases[i].SameEffects(opens, puts, kept))
            {
                _cases[i] = _cases[i].Join(result);
                return;
            }
        }

        _cases.Add(new ExitCase(result, opens, puts, kept));
    }

    private Parameter? ParameterOf(FlowReport report, int key) =>
        report.Engine.KeyFor(key) is { Root: IParameterSymbol parameter, Members.Length: 0 } && SymbolEqualityComparer.Default.Equals(parameter.ContainingSymbol, _method) &&
        parameter.Ordinal < _parameters.Length
            ? _parameters[parameter.Ordinal]
            : null;

    /// <summary>The ordinal of the parameter of this method that a key stands for as a whole, or -1.</summary>
    private int ParameterOrdinal(FlowReport report, int key) =>
        report.Engine.KeyFor(key) is { Root: IParameterSymbol parameter, Members.Length: 0 } && SymbolEqualityComparer.Default.Equals(parameter.ContainingSymbol, _method) ? parameter.Ordinal : -1;

    private static int KeyOf(FlowReport report, IParameterSymbol parameter)
    {
        for (int key = 0; report.Engine.KeyFor(key) is { } bufferKey; key++)
        {
            if (bufferKey.Root is IParameterSymbol root && bufferKey.Members.IsEmpty && SymbolEqualityComparer.Default.Equals(root, parameter))
            {
                return key;
            }
        }

        return -1;
    }

    private sealed class Parameter
    {
        public IInvocationOperation? RequiredBy { get; set; }

        public IInvocationOperation? EndedBy { get; set; }

        public IInvocationOperation? LeftOpenBy { get; set; }

        public IInvocationOperation? PutBy { get; set; }

        public bool Mixed { get; set; }

        public int OpenExits { get; set; }

        public int EndedExits { get; set; }

        public int PutExits { get; set; }

        public int KeptExits { get; set; }

        public IInvocationOperation? VunmappedBy { get; set; }

        public int VunmapBuffer { get; set; } = -1;

        public int VunmappedExits { get; set; }
    }
}
