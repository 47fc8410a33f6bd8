// DMA0001: a CPU access this body began and did not end, at each way out.
using System.Collections.Generic;
using System.Linq;
using DmaBuf.Analyzers.Engine;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace DmaBuf.Analyzers.Rules;

/// <summary>
/// DMA0001: at every way out of the body (return, falling off the end, an explicit throw that is not caught), a CPU
/// access this body began and did not end. Silent for accesses that escaped (the buffer or scope handed away), for
/// accesses begun by the caller, and in methods marked [LeavesCpuAccessOpen].
/// </summary>
internal sealed class UnendedCpuAccessRule : FlowRule
{
    public override DiagnosticDescriptor Descriptor => RuleDescriptors.DMA0001;

    public override void OnExit(FlowReport report, ExitPath exit, FlowState state)
    {
        if (report.Context.LeavesCpuAccessOpen)
        {
            return;
        }

        // One report per buffer at each way out: accesses begun at different places on different paths (the arms of
        // an if or a switch) are one thing left open there, named by the first of them in the source.
        var first = new Dictionary<int, AccessRecord>();
        var scopes = new List<AccessRecord>();
        foreach (Config config in state.Configs)
        {
            foreach (AccessRecord access in config.Open)
            {
                if (access.Escaped || (access.Key < 0 && !access.IsScope) || report.Context.IsHandedToCallers(access.Site))
                {
                    continue;
                }

                if (access.Key < 0)
                {
                    scopes.Add(access);
                }
                else if (!first.TryGetValue(access.Key, out AccessRecord? known) || access.Site.Syntax.SpanStart < known.Site.Syntax.SpanStart)
                {
                    first[access.Key] = access;
                }
            }
        }

        foreach (AccessRecord access in first.Values.Concat(scopes))
        {
            string buffer = access.Key >= 0 ? report.BufferName(access.Key) : ReceiverText(access.Site);
            report.Report(
                Descriptor,
                exit.Location,
                new[] { access.Site.Syntax.GetLocation() },
                buffer,
                access.Range.ToString(),
                FlowReport.Line(access.Site),
                exit.Description);
        }
    }

    internal static string ReceiverText(IOperation site) =>
        site is IInvocationOperation { Instance: { } instance } ? instance.Syntax.ToString() : "the buffer";
}
