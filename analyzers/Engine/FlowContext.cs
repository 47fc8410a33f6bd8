// What one engine run needs besides its graph (symbols, summaries, the method and its attributes); it holds no path
// state.
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;

namespace DmaBuf.Analyzers.Engine;

/// <summary>What one engine run needs besides the graph: the symbols, the callee summaries, the method and its attributes.</summary>
internal sealed class FlowContext
{
    private readonly System.Func<MethodSummary>? _ownSummary;
    private MethodSummary? _summary;

    public FlowContext(KnownSymbols symbols, MethodSummaries summaries, IMethodSymbol? method, ImmutableHashSet<IMethodSymbol> inProgress, CancellationToken cancellationToken, System.Func<MethodSummary>? ownSummary = null, bool summarizing = false)
    {
        _ownSummary = ownSummary;
        Summarizing = summarizing;
        Symbols = symbols;
        Summaries = summaries;
        Method = method;
        InProgress = inProgress;
        CancellationToken = cancellationToken;
        if (method is not null)
        {
            foreach (AttributeData attribute in method.GetAttributes())
            {
                if (SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, symbols.LeavesCpuAccessOpenAttribute))
                {
                    LeavesCpuAccessOpen = true;
                }
                else if (SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, symbols.ClosesCpuAccessAttribute))
                {
                    ClosesCpuAccess = true;
                }
            }
        }
    }

    public KnownSymbols Symbols { get; }

    /// <summary>The run computes the method's summary for its callers (no rule reports): parameters bring the callers' references.</summary>
    public bool Summarizing { get; }

    public MethodSummaries Summaries { get; }

    /// <summary>The method, local function or lambda whose body this is.</summary>
    public IMethodSymbol? Method { get; }

    /// <summary>The methods whose summaries are being computed further up (a call to one of them is recursion).</summary>
    public ImmutableHashSet<IMethodSymbol> InProgress { get; }

    public CancellationToken CancellationToken { get; }

    /// <summary>[LeavesCpuAccessOpen]: what the method leaves begun or mapped is not reported.</summary>
    public bool LeavesCpuAccessOpen { get; }

    /// <summary>[ClosesCpuAccess]: ends and unmaps whose begin or map is not visible are not reported.</summary>
    public bool ClosesCpuAccess { get; }

    /// <summary>
    /// Whether <paramref name="begin"/> is an access the method leaves begun on a parameter on every way it returns (or
    /// on the ways its summary tells apart by what it returns), and the method has callers in the compilation: the
    /// obligation to end it is theirs (they are checked at their exits).
    /// </summary>
    public bool IsHandedToCallers(IOperation begin)
    {
        // Whether the method has callers is a lookup in an index; its own summary is a second walk of its body.
        if (_ownSummary is null || Method is null || !Summaries.Callers.HasCallers(Method, CancellationToken))
        {
            return false;
        }

        _summary ??= _ownSummary();
        bool leftOpen = false;
        for (int i = 0; i < _summary.Parameters.Length; i++)
        {
            ParameterContract contract = _summary.Parameters[i];
            leftOpen |= contract.LeftOpenBy is { } left && left.Syntax == begin.Syntax ||
                contract.IsConditional && _summary.Cases.Any(c => c.LeftOpenBy[i] is { } conditional && conditional.Syntax == begin.Syntax);
        }

        return leftOpen;
    }
}
