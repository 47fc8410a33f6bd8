// DMA0007: a kmap with no CPU access begun on the buffer, or after it was ended.
using System.Collections.Generic;
using System.Linq;
using DmaBuf.Analyzers.Engine;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace DmaBuf.Analyzers.Rules;

/// <summary>
/// DMA0007: a kmap on a buffer with no CPU access begun, or after it was ended; and an access to the bytes of a vmap
/// this body holds (<c>GetSpan</c>) with no CPU access begun on the vmap's buffer, or after it was ended (any access
/// begun on the buffer counts, ranged or whole-buffer).
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

        string through = kmap.Via is { } via ? " before " + via.Describe("maps it") : string.Empty;
        Check(report, Descriptor, kmap.Call, kmap.Via?.Site, kmap.Key, before.Configs, kmap.PageText, through);
    }

    public override void OnVmapAccess(FlowReport report, VmapAccessEvent access, FlowState before)
    {
        if (access.Holders.IsEmpty || before.IsTop)
        {
            return;
        }

        // The paths on which the receiver holds a vmap of a known buffer; paths on which it was vunmapped are not this rule's.
        var configs = new List<Config>();
        ResourceRecord? first = null;
        foreach (Config config in before.Configs)
        {
            if (FlowEngine.VmapHeldBy(config, access.Holders) is not { Key: >= 0 } vmap)
            {
                continue;
            }

            if (first is not null && first.Key != vmap.Key)
            {
                return;
            }

            first ??= vmap;
            configs.Add(config);
        }

        if (first is not null)
        {
            Check(report, RuleDescriptors.DMA0007Vmap, access.Call, null, first.Key, configs, FlowReport.Line(first.Site), string.Empty);
        }
    }

    /// <summary>Reports <paramref name="descriptor"/> at <paramref name="call"/> when paths reach it with no access begun on <paramref name="key"/>.</summary>
    private static void Check(FlowReport report, DiagnosticDescriptor descriptor, IInvocationOperation call, IOperation? viaSite, int key, IReadOnlyCollection<Config> configs, object what, string through)
    {
        List<Config> bad = configs.Where(c => !c.OpenOn(key).Any() && !report.MayHaveUnknownAccess(c, key)).ToList();
        if (bad.Count == 0)
        {
            return;
        }

        bool all = bad.Count == configs.Count;
        bool managed = report.IsManaged(key);
        if (!managed && !all)
        {
            return;
        }

        string buffer = report.BufferName(key);
        if (bad.All(c => c.Ended.ContainsKey(key)))
        {
            IOperation end = bad[0].Ended[key];
            report.Report(descriptor, call, viaSite ?? end, buffer, what, $"the CPU access was ended at line {FlowReport.Line(end)}{through}{(all ? string.Empty : " on some path")}");
        }
        else if (managed)
        {
            report.Report(descriptor, call, viaSite, buffer, what, (all ? "no CPU access is begun" : "no CPU access is begun on some path") + through);
        }
    }
}
