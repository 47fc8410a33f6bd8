// DMA0007: a kmap with no CPU access begun on the buffer, or after it was ended.
using System.Collections.Generic;
using System.Linq;
using DmaBuf.Analyzers.Engine;
using Microsoft.CodeAnalysis;

namespace DmaBuf.Analyzers.Rules;

/// <summary>
/// DMA0007: a kmap on a buffer with no CPU access begun, or after it was ended.
/// "After it was ended" is reported when every path reaching the kmap has ended the access (this holds for any
/// buffer, a parameter included: the end is visible). "No CPU access begun" is reported only for a buffer whose
/// access this method manages (it begins access on it somewhere, or created it with Export/Get), and then on any path
/// that reaches the kmap with nothing begun. For other buffers the caller may have begun access, so it is silent.
/// </summary>
internal sealed class KmapWithoutCpuAccessRule : FlowRule
{
    public override DiagnosticDescriptor Descriptor => RuleDescriptors.DMA0007;

    public override void OnKmap(FlowReport report, KmapEvent kmap, FlowState before)
    {
        if (kmap.Key < 0)
        {
            return;
        }

        List<Config> bad = before.Configs.Where(c => !c.OpenOn(kmap.Key).Any() && !report.MayHaveUnknownAccess(c, kmap.Key)).ToList();
        if (bad.Count == 0)
        {
            return;
        }

        bool all = bad.Count == before.Configs.Length;
        bool managed = report.IsManaged(kmap.Key);
        if (!managed && !all)
        {
            return;
        }

        string buffer = report.BufferName(kmap.Key);
        string through = kmap.Via is { } via ? " before " + via.Describe("maps it") : string.Empty;
        if (bad.All(c => c.Ended.ContainsKey(kmap.Key)))
        {
            IOperation end = bad[0].Ended[kmap.Key];
            report.Report(Descriptor, kmap.Call, kmap.Via?.Site ?? end, buffer, kmap.PageText, $"the CPU access was ended at line {FlowReport.Line(end)}{through}{(all ? string.Empty : " on some path")}");
        }
        else if (managed)
        {
            report.Report(Descriptor, kmap.Call, kmap.Via?.Site, buffer, kmap.PageText, (all ? "no CPU access is begun" : "no CPU access is begun on some path") + through);
        }
    }
}
