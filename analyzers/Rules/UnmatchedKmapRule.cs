// DMA0003: a mapping not unmapped on some way out, or unmapped with the wrong call, page or buffer, or twice.
using System.Linq;
using DmaBuf.Analyzers.Engine;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace DmaBuf.Analyzers.Rules;

/// <summary>
/// DMA0003: a page this body mapped and did not unmap on some way out, or an unmap of a mapping this body holds with
/// the wrong call (Kunmap for an atomic mapping and the reverse), another page number or another buffer. Silent for
/// mappings that escaped (returned, stored, passed on, captured), for unmaps of mappings the body cannot see, and for
/// what a method marked [LeavesCpuAccessOpen] leaves mapped.
/// </summary>
internal sealed class UnmatchedKmapRule : FlowRule
{
    public override DiagnosticDescriptor Descriptor => RuleDescriptors.DMA0003;

    public override void OnExit(FlowReport report, ExitPath exit, FlowState state)
    {
        if (report.Context.LeavesCpuAccessOpen)
        {
            return;
        }

        foreach (Config config in state.Configs)
        {
            foreach (MappingRecord mapping in config.Held)
            {
                if (mapping.Escaped || mapping.Callee is not null)
                {
                    continue;
                }

                report.Report(
                    Descriptor,
                    exit.Location,
                    new[] { mapping.Site.Syntax.GetLocation() },
                    BufferOf(report, mapping),
                    mapping.PageText,
                    $"mapped with {MapCall(mapping.Atomic)} at line {FlowReport.Line(mapping.Site)} is not unmapped on the path that {exit.Description}");
            }
        }
    }

    public override void OnUnmap(FlowReport report, UnmapEvent unmap, FlowState before)
    {
        if (unmap.Holders.IsEmpty)
        {
            return;
        }

        if (before.Configs.All(c => FlowEngine.MappingHeldBy(c, unmap.Holders) is null))
        {
            // A local given a kmap's result once holds nothing here only if that mapping was already unmapped.
            if (report.Engine.KmapHeldBy(unmap.Mapping) is { } kmap)
            {
                string how = unmap.IsDispose ? "is disposed" : "is unmapped";
                string buffer = kmap.Instance is { } receiver ? receiver.Syntax.ToString() : "the buffer";
                string page = kmap.Arguments.Length > 0 ? kmap.Arguments[0].Value.Syntax.ToString() : "?";
                // The disposal a using makes is reported on its 'using' keyword.
                Location location = unmap.Call.IsImplicit && unmap.Call.Syntax.FirstAncestorOrSelf<StatementSyntax>() is { } statement
                    ? statement.GetFirstToken().GetLocation()
                    : unmap.Call.Syntax.GetLocation();
                string mapping = unmap.Mapping is { } m ? (m is IConversionOperation c ? c.Operand : m).Syntax.ToString() : "the mapping";
                report.Report(Descriptor, location, new[] { kmap.Syntax.GetLocation() }, buffer, page, $"mapped at line {FlowReport.Line(kmap)} {how} again: '{mapping}' was already unmapped on every path here");
            }

            return;
        }

        if (unmap.IsDispose)
        {
            return;
        }

        foreach (Config config in before.Configs)
        {
            MappingRecord? mapping = FlowEngine.MappingHeldBy(config, unmap.Holders);
            if (mapping is null || mapping.Callee is not null)
            {
                continue;
            }

            string? problem = null;
            if (mapping.Atomic != unmap.Atomic)
            {
                problem = $"mapped with {MapCall(mapping.Atomic)} at line {FlowReport.Line(mapping.Site)} is unmapped with {UnmapCall(unmap.Atomic)}; use {UnmapCall(mapping.Atomic)}";
            }
            else if ((mapping.Page is { IsConstant: true } mapped && unmap.Page is { IsConstant: true } given && mapped.Low != given.Low) ||
                report.Engine.PagesDiffer(mapping, unmap.Call.Arguments.Length > 0 && !unmap.IsDispose ? unmap.Call.Arguments[0].Value : null))
            {
                problem = $"mapped at line {FlowReport.Line(mapping.Site)} is unmapped with page number {unmap.PageText}";
            }
            else if (mapping.Key >= 0 && unmap.Key >= 0 && mapping.Key != unmap.Key)
            {
                problem = $"mapped at line {FlowReport.Line(mapping.Site)} is unmapped through '{report.BufferName(unmap.Key)}'";
            }

            if (problem is not null)
            {
                report.Report(Descriptor, unmap.Call, mapping.Site, BufferOf(report, mapping), mapping.PageText, problem);
                return;
            }
        }
    }

    private static string BufferOf(FlowReport report, MappingRecord mapping) =>
        mapping.Key >= 0 ? report.BufferName(mapping.Key) : UnendedCpuAccessRule.ReceiverText(mapping.Site);

    internal static string MapCall(bool atomic) => atomic ? "KmapAtomic" : "Kmap";

    internal static string UnmapCall(bool atomic) => atomic ? "KunmapAtomic" : "Kunmap";
}
