// DMA0006: a kmap of a page outside every access begun on that buffer, on some path.
using System.Linq;
using DmaBuf.Analyzers.Engine;
using Microsoft.CodeAnalysis;

namespace DmaBuf.Analyzers.Rules;

/// <summary>
/// DMA0006: a kmap of a page outside the page span (start / PageSize .. (start + length - 1) / PageSize) of every
/// access begun on that buffer, on some path. Only constant-known ranges and pages (or simple loop-counter intervals)
/// are judged; an unknown range or page, or an access the caller may have begun, keeps it silent.
/// </summary>
internal sealed class KmapOutsideBegunRangeRule : FlowRule
{
    public override DiagnosticDescriptor Descriptor => RuleDescriptors.DMA0006;

    public override void OnKmap(FlowReport report, KmapEvent kmap, FlowState before)
    {
        if (kmap.Key < 0 || kmap.Page is not { } page)
        {
            return;
        }

        foreach (Config config in before.Configs)
        {
            if (report.MayHaveUnknownAccess(config, kmap.Key))
            {
                continue;
            }

            var open = config.OpenOn(kmap.Key).ToList();
            if (open.Count == 0 || open.Any(a => a.Range.PageSpan is null) || open.Any(a => a.Range.PageSpan!.Value.Contains(page)))
            {
                continue;
            }

            AccessRecord access = open[0];
            string pageText = page.IsConstant ? kmap.PageText : $"{kmap.PageText} ({page} on some iteration)";
            if (kmap.Via is { } via)
            {
                pageText += $" (mapped by {via.Describe("maps it").Substring("the call to ".Length)})";
            }

            report.Report(Descriptor, kmap.Call, access.Site, report.BufferName(kmap.Key), pageText, $"{access.Range}, {(access.Range.PageSpan!.Value.IsConstant ? "page" : "pages")} {access.Range.PageSpan}", FlowReport.Line(access.Site));
            return;
        }
    }
}
