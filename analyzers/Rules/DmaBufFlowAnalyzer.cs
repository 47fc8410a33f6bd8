// The analyzer that runs the flow engine once per body that may touch a buffer and lets every flow rule report from
// that run.
using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using DmaBuf.Analyzers.Engine;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace DmaBuf.Analyzers.Rules;

/// <summary>
/// DMA0001–DMA0007 and DMA0009–DMA0012: runs the shared dataflow engine once per method body (and once per local function and lambda in
/// it) and lets each rule's client (<see cref="FlowRule"/>) report from the same run. A compilation that does not
/// mention the runtime registers nothing; a body the text pre-filter (<see cref="RuntimeMentions"/>) passes over is
/// never bound to operations; a body that calls no member of the runtime and nothing with an effect on buffers is
/// skipped before any graph is built.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class DmaBufFlowAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        RuleDescriptors.DMA0001,
        RuleDescriptors.DMA0002,
        RuleDescriptors.DMA0003,
        RuleDescriptors.DMA0004,
        RuleDescriptors.DMA0005,
        RuleDescriptors.DMA0006,
        RuleDescriptors.DMA0007,
        RuleDescriptors.DMA0009,
        RuleDescriptors.DMA0010,
        RuleDescriptors.DMA0011,
        RuleDescriptors.DMA0012);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(OnCompilationStart);
    }

    private static void OnCompilationStart(CompilationStartAnalysisContext start) =>
        Guard.Run(start.Compilation.Assembly, null, () => Register(start));

    private static void Register(CompilationStartAnalysisContext start)
    {
        // Cheapest first: the references' names, then the text of the trees; only then are the runtime's types looked up.
        RuntimeMentions? mentions = KnownSymbols.IsReferenced(start.Compilation) ? RuntimeMentions.Create(start.Compilation, start.CancellationToken) : null;
        KnownSymbols? symbols = mentions is null ? null : KnownSymbols.Create(start.Compilation);
        if (symbols is null || mentions is null)
        {
            return;
        }

        var summaries = new MethodSummaries(start.Compilation, symbols, mentions);
        ImmutableArray<FlowClient> rules = RuleSet.Create(start.Compilation, symbols, start.Options);

        // A code block action, not an operation block action: the operations of a body are built only for the bodies
        // that pass the text pre-filter.
        start.RegisterCodeBlockAction(block => Guard.Run(block.OwningSymbol, block.CodeBlock, () => AnalyzeBlock(block, mentions, symbols, summaries, rules)));
    }

    private static void AnalyzeBlock(CodeBlockAnalysisContext context, RuntimeMentions mentions, KnownSymbols symbols, MethodSummaries summaries, ImmutableArray<FlowClient> rules)
    {
        if (context.OwningSymbol is not IMethodSymbol method || !mentions.MayConcern(context.CodeBlock, context.CancellationToken) ||
            context.SemanticModel.GetOperation(context.CodeBlock, context.CancellationToken) is not { } block)
        {
            return;
        }

        // The graph is built for the body's root: its IMethodBodyOperation, IConstructorBodyOperation, or the block of an
        // arrow-bodied accessor.
        IOperation root = block;
        while (root.Parent is not null)
        {
            root = root.Parent;
        }

        if (!MayConcern(root, symbols, summaries, method, context.CancellationToken) || MethodBodies.CreateGraph(root, context.CancellationToken) is not { } cfg)
        {
            return;
        }

        Analyze(cfg, method, symbols, summaries, rules, context.ReportDiagnostic, context.CancellationToken);
    }

    private static void Analyze(ControlFlowGraph cfg, IMethodSymbol method, KnownSymbols symbols, MethodSummaries summaries, ImmutableArray<FlowClient> rules, Action<Diagnostic> report, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var inProgress = ImmutableHashSet.Create<IMethodSymbol>(SymbolEqualityComparer.Default, method.OriginalDefinition);
        Func<MethodSummary>? ownSummary = method.MethodKind switch
        {
            MethodKind.AnonymousFunction => null,
            MethodKind.LocalFunction => () => summaries.Get(method.OriginalDefinition, () => cfg, ImmutableHashSet<IMethodSymbol>.Empty.WithComparer(SymbolEqualityComparer.Default), cancellationToken),
            _ => () => summaries.Get(method, ImmutableHashSet<IMethodSymbol>.Empty.WithComparer(SymbolEqualityComparer.Default), cancellationToken),
        };
        var context = new FlowContext(symbols, summaries, method, inProgress, cancellationToken, ownSummary);
        new FlowEngine(cfg, context, rules, report).Run();

        foreach (IMethodSymbol local in cfg.LocalFunctions)
        {
            Analyze(cfg.GetLocalFunctionControlFlowGraph(local, cancellationToken), local, symbols, summaries, rules, report, cancellationToken);
        }

        foreach (BasicBlock block in cfg.Blocks)
        {
            foreach (IOperation root in block.Operations.Concat(block.BranchValue is null ? Enumerable.Empty<IOperation>() : new[] { block.BranchValue }))
            {
                foreach (IFlowAnonymousFunctionOperation lambda in root.DescendantsAndSelf().OfType<IFlowAnonymousFunctionOperation>())
                {
                    Analyze(cfg.GetAnonymousFunctionControlFlowGraph(lambda, cancellationToken), lambda.Symbol, symbols, summaries, rules, report, cancellationToken);
                }
            }
        }
    }

    /// <summary>The cheap pre-filter: does the body call the runtime, or something that may hold an atomic mapping?</summary>
    private static bool MayConcern(IOperation block, KnownSymbols symbols, MethodSummaries summaries, IMethodSymbol method, CancellationToken cancellationToken)
    {
        var inProgress = ImmutableHashSet.Create<IMethodSymbol>(SymbolEqualityComparer.Default, method.OriginalDefinition);
        foreach (IOperation op in block.Descendants())
        {
            if (op is not IInvocationOperation invocation)
            {
                continue;
            }

            IMethodSymbol target = invocation.TargetMethod;
            INamedTypeSymbol? type = target.ContainingType;
            if (SymbolEqualityComparer.Default.Equals(type, symbols.DmaBuffer) || SymbolEqualityComparer.Default.Equals(type, symbols.DmaBufPage) ||
                SymbolEqualityComparer.Default.Equals(type, symbols.CpuAccessScope) || SymbolEqualityComparer.Default.Equals(type, symbols.DmaBufVmap))
            {
                return true;
            }

            if (target.MethodKind is not (MethodKind.LocalFunction or MethodKind.DelegateInvoke) && summaries.IsSummarizable(target))
            {
                MethodSummary summary = summaries.Get(target, inProgress, cancellationToken);
                if (summary.HasEffects)
                {
                    return true;
                }
            }
        }

        return false;
    }
}
