// What a rule sees of the body under analysis and the one place it reports through; rules never call ReportDiagnostic
// themselves.
using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;

namespace DmaBuf.Analyzers.Engine;

/// <summary>What a rule sees of the body under analysis, and the one place it reports through (duplicates dropped).</summary>
internal sealed class FlowReport
{
    private readonly HashSet<string> _reported = new(StringComparer.Ordinal);
    private readonly Action<Diagnostic> _report;

    public FlowReport(FlowEngine engine, FlowContext context, Action<Diagnostic> report)
    {
        Engine = engine;
        Context = context;
        _report = report;
    }

    public FlowEngine Engine { get; }

    public FlowContext Context { get; }

    public KnownSymbols Symbols => Context.Symbols;

    public string BufferName(int key) => Engine.KeyDisplay(key);

    public bool IsManaged(int key) => Engine.IsManaged(key);

    /// <summary>Whether an access the body cannot see (begun by the caller, or by code the buffer was handed to) may be open.</summary>
    public bool MayHaveUnknownAccess(Config config, int key) => Engine.HasUnknownAccess(config, key);

    public static int Line(IOperation operation) => Line(operation.Syntax.GetLocation());

    public static int Line(Location location) => location.GetLineSpan().StartLinePosition.Line + 1;

    public static string Lines(IEnumerable<IOperation> sites)
    {
        List<int> lines = sites.Select(Line).Distinct().OrderBy(l => l).ToList();
        if (lines.Count == 0)
        {
            return "another call";
        }

        string joined = lines.Count == 1
            ? lines[0].ToString(System.Globalization.CultureInfo.InvariantCulture)
            : string.Join(", ", lines.Take(lines.Count - 1).Select(l => l.ToString(System.Globalization.CultureInfo.InvariantCulture))) + " and " + lines[lines.Count - 1].ToString(System.Globalization.CultureInfo.InvariantCulture);
        return (lines.Count == 1 ? "line " : "lines ") + joined;
    }

    public void Report(DiagnosticDescriptor descriptor, Location location, IEnumerable<Location>? additional, params object[] arguments) =>
        Report(descriptor, location, additional, null, arguments);

    /// <summary>Reports with properties a code fix reads (such as which of a rule's cases this is).</summary>
    public void Report(DiagnosticDescriptor descriptor, Location location, IEnumerable<Location>? additional, ImmutableDictionary<string, string?>? properties, params object[] arguments)
    {
        if (_reported.Add(DeduplicationKey(descriptor, location, arguments)))
        {
            _report(Diagnostic.Create(descriptor, location, additional, properties, arguments));
        }
    }

    public void Report(DiagnosticDescriptor descriptor, IOperation at, IOperation? related, params object[] arguments) =>
        Report(descriptor, LocationOf(at), related is null ? null : new[] { related.Syntax.GetLocation() }, arguments);

    /// <summary>Where a report on an operation goes: its syntax, or the 'using' keyword for the disposal a using makes.</summary>
    public static Location LocationOf(IOperation operation)
    {
        if (operation.IsImplicit)
        {
            foreach (SyntaxNode node in operation.Syntax.AncestorsAndSelf())
            {
                switch (node)
                {
                    case Microsoft.CodeAnalysis.CSharp.Syntax.UsingStatementSyntax statement:
                        return statement.UsingKeyword.GetLocation();
                    case Microsoft.CodeAnalysis.CSharp.Syntax.LocalDeclarationStatementSyntax { UsingKeyword.RawKind: not 0 } declaration:
                        return declaration.UsingKeyword.GetLocation();
                    case Microsoft.CodeAnalysis.CSharp.Syntax.StatementSyntax:
                        return operation.Syntax.GetLocation();
                }
            }
        }

        return operation.Syntax.GetLocation();
    }

    /// <summary>
    /// The rule, the span and the message arguments: the same diagnostic gives the same key, without formatting its
    /// message (every argument is part of the message). The arguments are separated by a control character no
    /// argument contains.
    /// </summary>
    private static string DeduplicationKey(DiagnosticDescriptor descriptor, Location location, object[] arguments)
    {
        var key = new StringBuilder(descriptor.Id)
            .Append('|').Append(location.SourceSpan.Start)
            .Append('|').Append(location.SourceSpan.Length);
        foreach (object argument in arguments)
        {
            key.Append('\u001f').Append(Convert.ToString(argument, CultureInfo.InvariantCulture));
        }

        return key.ToString();
    }
}
