// The flow engine's clients, one per rule, made once per compilation.
using System.Collections.Immutable;
using DmaBuf.Analyzers.Blocking;
using DmaBuf.Analyzers.Engine;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace DmaBuf.Analyzers.Rules;

/// <summary>The engine's clients, one per rule, made once per compilation.</summary>
internal static class RuleSet
{
    public static ImmutableArray<FlowClient> Create(Compilation compilation, KnownSymbols symbols, AnalyzerOptions options)
    {
        return ImmutableArray.Create<FlowClient>(
            new UnendedCpuAccessRule(),
            new MismatchedEndCpuAccessRule(),
            new UnmatchedKmapRule(),
            new TooManyAtomicKmapsRule(),
            new BlockingInAtomicRule(() => BlockingAnalysis.Create(compilation, symbols, options)),
            new KmapOutsideBegunRangeRule(),
            new KmapWithoutCpuAccessRule(),
            new AttachmentMappingRule(),
            new UnputBufferReferenceRule(),
            new UseAfterPutRule(),
            new UnmatchedVmapRule());
    }
}
