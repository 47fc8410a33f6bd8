// DMA0010: a reference taken with Export or Get and not put, at each way out.
using System.Collections.Immutable;
using DmaBuf.Analyzers.Engine;
using Microsoft.CodeAnalysis;

namespace DmaBuf.Analyzers.Rules;

/// <summary>
/// DMA0010: at every way out of the body, a buffer reference this body took with <c>Export</c> or <c>Get</c> and did
/// not put. Silent for references that escaped: returned, stored, handed to another method or constructor, captured.
/// </summary>
internal sealed class UnputBufferReferenceRule : FlowRule
{
    public const string NotPut = "NotPut";

    private static readonly ImmutableDictionary<string, string?> Properties = Kind(NotPut);

    public override DiagnosticDescriptor Descriptor => RuleDescriptors.DMA0010;

    public override void OnExit(FlowReport report, ExitPath exit, FlowState state)
    {
        foreach (Config config in state.Configs)
        {
            foreach (ResourceRecord reference in config.Resources)
            {
                if (reference.Kind != ResourceKind.Reference || reference.Escaped)
                {
                    continue;
                }

                report.Report(
                    Descriptor,
                    exit.Location,
                    new[] { reference.Site.Syntax.GetLocation() },
                    Properties,
                    reference.Name ?? reference.Site.Syntax.ToString(),
                    reference.Call.TargetMethod.Name,
                    FlowReport.Line(reference.Site),
                    exit.Description);
            }
        }
    }
}
