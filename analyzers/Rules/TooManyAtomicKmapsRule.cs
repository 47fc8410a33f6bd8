// DMA0004: a third atomic kmap held at once on some path.
using System.Collections.Generic;
using System.Linq;
using DmaBuf.Analyzers.Engine;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace DmaBuf.Analyzers.Rules;

/// <summary>
/// DMA0004: more than two atomic kmaps held at once on some path: at a <c>KmapAtomic</c> while two are held (also
/// when a loop keeps earlier iterations' mappings, or callees left them held), and at a call into a method of the
/// compilation (a local function, an invoked lambda, recursion included) that maps atomically while the caller holds
/// enough to go past two. A callee that breaks the rule on its own is reported inside the callee only.
/// </summary>
internal sealed class TooManyAtomicKmapsRule : FlowRule
{
    private const int Limit = 2;

    public override DiagnosticDescriptor Descriptor => RuleDescriptors.DMA0004;

    public override void OnKmap(FlowReport report, KmapEvent kmap, FlowState before)
    {
        // A callee's own kmaps are counted through its summary, at OnCall.
        if (!kmap.Atomic || kmap.Via is not null)
        {
            return;
        }

        foreach (Config config in before.Configs)
        {
            List<MappingRecord> held = config.Held.Where(m => m.Atomic).ToList();
            if (held.Count >= Limit)
            {
                string buffer = kmap.Key >= 0 ? report.BufferName(kmap.Key) : UnendedCpuAccessRule.ReceiverText(kmap.Call);
                Report(report, kmap.Call, $"The atomic mapping of page {kmap.PageText} of '{buffer}'", held);
                return;
            }
        }
    }

    public override void OnCall(FlowReport report, IInvocationOperation call, MethodSummary summary, FlowState before)
    {
        foreach (Config config in before.Configs)
        {
            List<MappingRecord> held = config.Held.Where(m => m.Atomic).ToList();
            int peak = summary.PeakFor(held.Count);
            if (held.Count > 0 && peak > 0 && held.Count + peak > Limit)
            {
                string what = summary.IsRecursive
                    ? $"The recursive call to '{call.TargetMethod.Name}'"
                    : $"The call to '{call.TargetMethod.Name}', which holds up to {summary.MaxHeld} atomic kmap{(summary.MaxHeld == 1 ? string.Empty : "s")},";
                Report(report, call, what, held);
                return;
            }
        }
    }

    private void Report(FlowReport report, IOperation at, string what, List<MappingRecord> held)
    {
        IEnumerable<Location> related = held.Select(m => m.Site).Distinct().Select(s => s.Syntax.GetLocation());
        report.Report(Descriptor, at.Syntax.GetLocation(), related, what, FlowReport.Lines(held.Select(m => m.Site)));
    }
}
