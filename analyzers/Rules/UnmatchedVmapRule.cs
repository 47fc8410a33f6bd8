// DMA0012, a client of the engine's vmap records: a vmap this body made and did not vunmap on some way out, a second
// vunmap of the vmap a local holds, and a Vunmap on another buffer than the vmap's. It reads the state only.
using System.Linq;
using DmaBuf.Analyzers.Engine;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace DmaBuf.Analyzers.Rules;

/// <summary>
/// DMA0012: a vmap this body made and did not vunmap on some way out (reported there), a vunmap of a vmap that was
/// already vunmapped on some path (the local holding it was given one Vmap's result, so every path to the vunmap went
/// through that Vmap), and a <c>Vunmap</c> on another buffer than the one the vmap was made on. Silent for vmaps that
/// escaped (returned, stored, passed on, captured), for vunmaps of vmaps the body cannot see, and in a method marked
/// [LeavesCpuAccessOpen].
/// </summary>
internal sealed class UnmatchedVmapRule : FlowRule
{
    public override DiagnosticDescriptor Descriptor => RuleDescriptors.DMA0012;

    public override void OnExit(FlowReport report, ExitPath exit, FlowState state)
    {
        if (report.Context.LeavesCpuAccessOpen)
        {
            return;
        }

        foreach (Config config in state.Configs)
        {
            foreach (ResourceRecord vmap in config.Resources)
            {
                if (vmap.Kind != ResourceKind.Vmap || vmap.Escaped)
                {
                    continue;
                }

                report.Report(
                    Descriptor,
                    exit.Location,
                    new[] { vmap.Site.Syntax.GetLocation() },
                    BufferOf(report, vmap),
                    FlowReport.Line(vmap.Site),
                    $"is not vunmapped on the path that {exit.Description}");
            }
        }
    }

    public override void OnVunmap(FlowReport report, VunmapEvent vunmap, FlowState before)
    {
        if (vunmap.Holders.IsEmpty || before.IsTop)
        {
            return;
        }

        if (before.Configs.Any(c => FlowEngine.VmapHeldBy(c, vunmap.Holders) is null))
        {
            if (report.Engine.VmapHeldByLocal(vunmap.Mapping) is { } made)
            {
                string buffer = report.Engine.VmapBufferText(made);
                string mapping = vunmap.Mapping is { } m ? (m is IConversionOperation c ? c.Operand : m).Syntax.ToString() : "the vmap";
                bool every = before.Configs.All(c => FlowEngine.VmapHeldBy(c, vunmap.Holders) is null);
                string how = vunmap.IsDispose ? "is disposed" : "is vunmapped";
                report.Report(Descriptor, FlowReport.LocationOf(vunmap.Call), new[] { made.Syntax.GetLocation() }, buffer, FlowReport.Line(made), $"{how} again: '{mapping}' was already vunmapped{(every ? " on every path" : " on some path")} here");
            }

            return;
        }

        if (vunmap.IsDispose || vunmap.Key < 0)
        {
            return;
        }

        foreach (Config config in before.Configs)
        {
            if (FlowEngine.VmapHeldBy(config, vunmap.Holders) is { Key: >= 0 } vmap && vmap.Key != vunmap.Key)
            {
                report.Report(Descriptor, vunmap.Call, vmap.Site, BufferOf(report, vmap), FlowReport.Line(vmap.Site), $"is vunmapped through '{report.BufferName(vunmap.Key)}', another buffer; vunmap it on '{report.BufferName(vmap.Key)}'");
                return;
            }
        }
    }

    private static string BufferOf(FlowReport report, ResourceRecord vmap) =>
        vmap.Key >= 0 ? report.BufferName(vmap.Key) : UnendedCpuAccessRule.ReceiverText(vmap.Site);
}
