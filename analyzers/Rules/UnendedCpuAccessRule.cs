// DMA0001: a CPU access this body began and did not end, at each way out.
using System.Collections.Generic;
using System.Collections.Immutable;
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
                BegunThroughCall(report, access, buffer),
                buffer,
                access.Range.ToString(),
                FlowReport.Line(access.Site),
                exit.Description);
        }
    }

    /// <summary>The name of the property that writes the buffer of an access a called method began, in the caller's terms.</summary>
    public const string BufferProperty = "Buffer";

    /// <summary>The name of the property that writes the arguments of its begin in the caller's terms (<c>0, buf.Size, ...</c>).</summary>
    public const string ArgumentsProperty = "Arguments";

    /// <summary>
    /// For an access a method of the compilation began for its caller (the site is the call): the buffer and the begin's
    /// arguments as the caller would write its end, which the site itself does not show. Null for a begin or a scope
    /// written in the body, and when the range is not known in the caller's terms.
    /// </summary>
    private static ImmutableDictionary<string, string?>? BegunThroughCall(FlowReport report, AccessRecord access, string buffer)
    {
        if (access.IsScope || access.Key < 0 || access.Site is not IInvocationOperation call ||
            report.Symbols.IsBegin(call.TargetMethod) || report.Symbols.IsScope(call.TargetMethod) ||
            access.Range.ArgumentsText() is not { } arguments)
        {
            return null;
        }

        return ImmutableDictionary<string, string?>.Empty
            .Add(BufferProperty, buffer)
            .Add(ArgumentsProperty, arguments);
    }

    internal static string ReceiverText(IOperation site) =>
        site is IInvocationOperation { Instance: { } instance } ? instance.Syntax.ToString() : "the buffer";
}
