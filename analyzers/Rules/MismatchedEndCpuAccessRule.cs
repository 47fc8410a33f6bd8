// DMA0002: an EndCpuAccess that ends nothing on some path, or whose range or direction matches no open access.
using System.Linq;
using DmaBuf.Analyzers.Engine;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace DmaBuf.Analyzers.Rules;

/// <summary>
/// DMA0002: an EndCpuAccess that ends nothing on some path, or whose (constant) range or direction differs from every
/// access open on that buffer. "Ends nothing" is reported only for a buffer whose access this method manages (it begins
/// access on it somewhere, or created it) and never in a method marked [ClosesCpuAccess]: an end on a parameter with no
/// begin in the method is silent, because the caller may have begun it. A second end of the caller's access is silent
/// too (the caller may have begun it twice). Unknown ranges never mismatch.
/// </summary>
internal sealed class MismatchedEndCpuAccessRule : FlowRule
{
    public override DiagnosticDescriptor Descriptor => RuleDescriptors.DMA0002;

    public override void OnEnd(FlowReport report, IInvocationOperation end, int key, AccessRange range, FlowState before, Via? via)
    {
        if (key < 0)
        {
            return;
        }

        string buffer = report.BufferName(key);
        string through = via is not null ? " before " + via.Describe("ends it") : string.Empty;
        int nothing = 0;
        Config? firstNothing = null;
        foreach (Config config in before.Configs)
        {
            (EndMatch match, AccessRecord? record) = report.Engine.MatchEnd(config, key, range);
            if (match == EndMatch.Mismatch && record is not null)
            {
                report.Report(Descriptor, end, record.Site, buffer, range.ToString(), $"the access begun at line {FlowReport.Line(record.Site)} is {record.Range}" + (via is not null ? $" ({via.Describe("ends it")})" : string.Empty));
                return;
            }

            if (match == EndMatch.Nothing)
            {
                nothing++;
                firstNothing ??= config;
            }
        }

        if (firstNothing is null || report.Context.ClosesCpuAccess || !report.IsManaged(key))
        {
            return;
        }

        string suffix = nothing == before.Configs.Length ? string.Empty : " on some path";
        if (firstNothing.Ended.TryGetValue(key, out IOperation? previous))
        {
            // A CpuAccess scope's disposal is an end too: after an explicit end of the same access it ends it twice.
            string who = via is not null || report.Symbols.IsEnd(end.TargetMethod) ? string.Empty : "the scope's disposal ends it again: ";
            report.Report(Descriptor, end, via?.Site ?? previous, buffer, range.ToString(), $"{who}the CPU access was already ended at line {FlowReport.Line(previous)}{through}{suffix}");
        }
        else
        {
            report.Report(Descriptor, end, via?.Site, buffer, range.ToString(), "no CPU access is begun" + through + suffix);
        }
    }
}
