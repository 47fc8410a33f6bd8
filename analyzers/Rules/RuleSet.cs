using System.Collections.Generic;
using DmaBuf.Analyzers.Engine;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace DmaBuf.Analyzers.Rules;

/// <summary>The engine's clients, one per rule, made once per compilation.</summary>
internal static class RuleSet
{
    public static IReadOnlyList<FlowRule> Create(Compilation compilation, KnownSymbols symbols, AnalyzerOptions options)
    {
        _ = compilation;
        _ = symbols;
        _ = options;
        return new FlowRule[]
        {
            new UnendedCpuAccessRule(),
            new MismatchedEndCpuAccessRule(),
            new UnmatchedKmapRule(),
            new TooManyAtomicKmapsRule(),
            new KmapOutsideBegunRangeRule(),
            new KmapWithoutCpuAccessRule(),
        };
    }
}
