// The chain of calls from a blocking call site down to the operation that blocks, as the DMA0005/DMA0008 messages show
// it.
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;

namespace DmaBuf.Analyzers.Blocking;

// Why a call may block, as the chain of calls from it down to the blocking operation: "(→ ExecuteSync →
// ExecuteSyncImpl → Monitor.Wait at ConnectionMultiplexer.cs:2080)". Worked out only for what is reported, from the
// final summaries: at each method, the first site (in document order) with the least depth whose way holds under the
// way being explained. Shown with at most MaxShown elements: the first three, "…", the last two.

/// <summary>One element of a chain: a method called on the way, or the blocking operation at its end.</summary>
internal readonly struct ChainStep
{
    public ChainStep(IMethodSymbol? method, Site? site)
    {
        Method = method;
        Site = site;
    }

    /// <summary>The method the chain goes through (null for the final operation).</summary>
    public IMethodSymbol? Method { get; }

    /// <summary>The blocking operation at the end (null for a method).</summary>
    public Site? Site { get; }
}

/// <summary>Explains ways as chains, and formats them.</summary>
internal sealed class BlockingChains
{
    /// <summary>The most elements a chain shows.</summary>
    public const int MaxShown = 6;

    /// <summary>The most steps a chain is followed; a longer one ends in "…" (only its first steps are shown).</summary>
    private const int MaxFollowed = 256;

    private readonly BlockingSummaries _summaries;

    public BlockingChains(BlockingSummaries summaries) => _summaries = summaries;

    /// <summary>The chain from <paramref name="method"/>'s body down to the blocking operation of <paramref name="way"/>.</summary>
    public List<ChainStep> Explain(IMethodSymbol method, Way way, CancellationToken cancellationToken)
    {
        var steps = new List<ChainStep>();
        var seen = new HashSet<string>(System.StringComparer.Ordinal);
        IMethodSymbol current = method;
        Way currentWay = way;
        while (steps.Count < MaxFollowed && seen.Add(current.ToDisplayString() + "|" + currentWay.Guard.Key))
        {
            MethodScan scan = _summaries.Scan(current, cancellationToken);
            (ScannedSite Site, IMethodSymbol? Target, Way CalleeWay, int Depth)? best = Best(scan, currentWay.Guard, strict: true, cancellationToken) ?? Best(scan, currentWay.Guard, strict: false, cancellationToken);
            if (best is not { } found)
            {
                break;
            }

            if (found.Target is null)
            {
                steps.Add(new ChainStep(null, found.Site.Site));
                break;
            }

            steps.Add(new ChainStep(found.Target, null));
            current = found.Target;
            currentWay = found.CalleeWay;
        }

        return steps;
    }

    private (ScannedSite Site, IMethodSymbol? Target, Way CalleeWay, int Depth)? Best(MethodScan scan, Guard guard, bool strict, CancellationToken cancellationToken)
    {
        (ScannedSite, IMethodSymbol?, Way, int)? best = null;
        int bestDepth = int.MaxValue;
        foreach (ScannedSite site in scan.Sites)
        {
            foreach ((Guard found, int depth, IMethodSymbol? target, Way calleeWay) in _summaries.WaysAt(site, scan.Method, t => _summaries.Get(t, cancellationToken), cancellationToken))
            {
                if (depth < bestDepth && (!strict || found.IsWeakerOrEqual(guard)))
                {
                    best = (site, target, calleeWay, depth);
                    bestDepth = depth;
                }
            }

            if (bestDepth == 0)
            {
                break;
            }
        }

        return best;
    }

    /// <summary>
    /// The chain as a message shows it, <c>(→ Inner → Thread.Sleep at line 12)</c>: each method by name (with its type
    /// when that changes), the blocking operation with its line (and file, when it is not <paramref name="from"/>).
    /// </summary>
    public static string Format(IReadOnlyList<ChainStep> steps, INamedTypeSymbol? startType, SyntaxTree? from)
    {
        if (steps.Count == 0)
        {
            return string.Empty;
        }

        var elements = new List<string>();
        INamedTypeSymbol? previous = startType;
        foreach (ChainStep step in steps)
        {
            if (step.Method is { } method)
            {
                elements.Add(HopName(method, previous));
                if (method.MethodKind is not (MethodKind.AnonymousFunction or MethodKind.LocalFunction))
                {
                    previous = method.ContainingType;
                }
            }
            else if (step.Site is { } site)
            {
                FileLinePositionSpan span = site.Operation.Syntax.GetLocation().GetLineSpan();
                int line = span.StartLinePosition.Line + 1;
                string where = from is not null && site.Operation.Syntax.SyntaxTree != from && !string.IsNullOrEmpty(span.Path)
                    ? $" at {Path.GetFileName(span.Path)}:{line}"
                    : $" at line {line}";
                elements.Add(site.ShortName + where);
            }
        }

        if (steps[steps.Count - 1].Site is null)
        {
            // Not followed down to the blocking operation (too long): show where it starts.
            elements = elements.Take(3).Concat(new[] { "…" }).ToList();
        }
        else if (elements.Count > MaxShown)
        {
            elements = elements.Take(3).Concat(new[] { "…" }).Concat(elements.Skip(elements.Count - 2)).ToList();
        }

        return "(→ " + string.Join(" → ", elements) + ")";
    }

    private static string HopName(IMethodSymbol method, INamedTypeSymbol? previous)
    {
        string name;
        switch (method.MethodKind)
        {
            case MethodKind.AnonymousFunction:
                return "lambda at line " + BlockingAnalysis.LineOfDeclaration(method, null);
            case MethodKind.LocalFunction:
                return method.Name;
            case MethodKind.Constructor:
                return "new " + method.ContainingType.Name;
            case MethodKind.PropertyGet:
            case MethodKind.PropertySet:
            case MethodKind.EventAdd:
            case MethodKind.EventRemove:
                name = method.AssociatedSymbol is IPropertySymbol { IsIndexer: true } ? "this[]" : method.AssociatedSymbol?.Name ?? method.Name;
                break;
            case MethodKind.UserDefinedOperator:
            case MethodKind.Conversion:
                name = BlockingAnalysis.Display(method);
                int parenthesis = name.IndexOf('(');
                name = parenthesis > 0 ? name.Substring(0, parenthesis) : name;
                return name;
            default:
                name = method.Name;
                break;
        }

        return SymbolEqualityComparer.Default.Equals(method.ContainingType?.OriginalDefinition, previous?.OriginalDefinition) ? name : method.ContainingType?.Name + "." + name;
    }
}
