// A test-only analyzer (BLK0001) that reports every operation the blocking analysis finds may block, with its
// description: the analysis as DMA0005 and DMA0008 use it, without their other conditions.
using System;
using System.Collections.Immutable;
using DmaBuf.Analyzers.Blocking;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace DmaBuf.Analyzers.Tests.Blocking;

/// <summary>
/// A test-only analyzer that reports every operation <see cref="BlockingAnalysis"/> finds blocking, in every
/// operation block, as <c>BLK0001</c> with the description as the message. It exercises the analysis the way
/// DMA0005 and DMA0008 use it, without their other conditions.
/// </summary>
#pragma warning disable RS1036, RS2008 // A test-only analyzer inside the test project: not shipped, no release tracking.
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class BlockingProbeAnalyzer : DiagnosticAnalyzer
#pragma warning restore RS1036
{
    public const string Id = "BLK0001";

    internal static readonly DiagnosticDescriptor Rule = new(Id, "May block", "{0}", "Test", DiagnosticSeverity.Warning, isEnabledByDefault: true);

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(Rule);

    public override void Initialize(AnalysisContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(start =>
        {
            KnownSymbols? symbols = KnownSymbols.Create(start.Compilation);
            if (symbols is null)
            {
                return;
            }

            BlockingAnalysis analysis = BlockingAnalysis.Create(start.Compilation, symbols, start.Options);
            start.RegisterOperationBlockAction(block =>
            {
                foreach (IOperation root in block.OperationBlocks)
                {
                    foreach (BlockingOperation found in analysis.FindBlockingOperations(root, block.CancellationToken))
                    {
                        block.ReportDiagnostic(Diagnostic.Create(Rule, BlockingAnalysis.GetReportLocation(found.Operation), found.Description));
                    }
                }
            });
        });
    }
}
#pragma warning restore RS2008
