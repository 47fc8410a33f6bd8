// DMA0009: tables mapped and not unmapped, unmapped through another attachment, or held at a Detach; a client that
// only reads the state.
using System.Collections.Immutable;
using System.Linq;
using DmaBuf.Analyzers.Engine;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace DmaBuf.Analyzers.Rules;

/// <summary>
/// DMA0009: a table this body mapped with <c>MapAttachment</c> and did not unmap on some way out; an
/// <c>UnmapAttachment</c> that gives a table back through another attachment than the one it was mapped from; a
/// <c>Detach</c> of an attachment whose table this body still holds. Silent for tables that escaped (returned,
/// stored, passed on, captured), for tables the body cannot see, and for attachments it cannot follow.
/// </summary>
internal sealed class AttachmentMappingRule : FlowRule
{
    public const string NotUnmapped = "NotUnmapped";

    public const string OtherTable = "OtherTable";

    public const string DetachWhileMapped = "DetachWhileMapped";

    public override DiagnosticDescriptor Descriptor => RuleDescriptors.DMA0009;

    public override void OnExit(FlowReport report, ExitPath exit, FlowState state)
    {
        foreach (Config config in state.Configs)
        {
            foreach (ResourceRecord table in config.Resources)
            {
                if (table.Kind == ResourceKind.Table && !table.Escaped)
                {
                    Report(report, exit.Location, table, NotUnmapped, $"is not unmapped on the path that {exit.Description}");
                }
            }
        }
    }

    public override void OnOperation(FlowReport report, IOperation operation, FlowState before)
    {
        if (operation is not IInvocationOperation { Arguments.Length: > 0 } invocation)
        {
            return;
        }

        IMethodSymbol method = invocation.TargetMethod;
        if (KnownSymbols.IsSame(method, report.Symbols.UnmapAttachment) && invocation.Arguments.Length > 1)
        {
            OnUnmap(report, invocation, before);
        }
        else if (KnownSymbols.IsSame(method, report.Symbols.Detach))
        {
            OnDetach(report, invocation, before);
        }
    }

    private void OnUnmap(FlowReport report, IInvocationOperation unmap, FlowState before)
    {
        ImmutableArray<int> holders = report.Engine.HoldersOfExpression(unmap.Arguments[1].Value);
        if (holders.IsEmpty || report.Engine.StableValue(unmap.Arguments[0].Value) is not IInvocationOperation given || !IsAttach(report, given))
        {
            return;
        }

        foreach (Config config in before.Configs)
        {
            // Two attachments are certainly different when each is the result of its own Attach call of this body.
            if (FlowEngine.TableHeldBy(config, holders) is { Escaped: false } table &&
                report.Engine.StableValue(table.Call.Arguments[0].Value) is IInvocationOperation mappedFrom && IsAttach(report, mappedFrom) &&
                !ReferenceEquals(mappedFrom, given))
            {
                Report(report, unmap.Syntax.GetLocation(), table, OtherTable, $"is unmapped through another attachment, '{unmap.Arguments[0].Value.Syntax}'");
                return;
            }
        }
    }

    private void OnDetach(FlowReport report, IInvocationOperation detach, FlowState before)
    {
        int attachment = report.Engine.AttachmentId(detach.Arguments[0].Value);
        if (attachment < 0)
        {
            return;
        }

        foreach (Config config in before.Configs)
        {
            if (config.Resources.FirstOrDefault(r => r.Kind == ResourceKind.Table && !r.Escaped && r.Attachment == attachment) is { } table)
            {
                Report(report, detach.Syntax.GetLocation(), table, DetachWhileMapped, $"is still mapped when '{detach.Arguments[0].Value.Syntax}' is detached");
                return;
            }
        }
    }

    private static bool IsAttach(FlowReport report, IInvocationOperation invocation) => KnownSymbols.IsSame(invocation.TargetMethod, report.Symbols.Attach);

    private void Report(FlowReport report, Location location, ResourceRecord table, string kind, string problem) =>
        report.Report(
            Descriptor,
            location,
            new[] { table.Site.Syntax.GetLocation() },
            Kind(kind),
            table.Call.Arguments.Length > 0 ? table.Call.Arguments[0].Value.Syntax.ToString() : "the attachment",
            FlowReport.Line(table.Site),
            problem);
}
