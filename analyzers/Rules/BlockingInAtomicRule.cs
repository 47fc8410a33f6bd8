// DMA0005: an operation that may block while an atomic kmap is held; it asks the blocking analysis and reads the
// state.
using System;
using System.Linq;
using DmaBuf.Analyzers.Blocking;
using DmaBuf.Analyzers.Engine;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace DmaBuf.Analyzers.Rules;

/// <summary>
/// DMA0005: an operation that may block (as <see cref="BlockingAnalysis"/> judges it: [MightSleep] methods, the
/// runtime's blocking calls such as non-atomic Kmap and BeginCpuAccess, await, lock, the base class library's blocking
/// APIs, listed methods, and methods of the compilation that reach one) while at least one atomic mapping is held on
/// some path. A lambda only defined while a mapping is held is not judged there; its invocation is. The message names
/// the call and the chain of calls from it down to the blocking operation.
/// </summary>
internal sealed class BlockingInAtomicRule : FlowRule
{
    private readonly Lazy<BlockingAnalysis> _blocking;

    /// <param name="blocking">Makes the blocking analysis, the first time an operation runs with an atomic mapping held.</param>
    public BlockingInAtomicRule(Func<BlockingAnalysis> blocking)
    {
        _blocking = new Lazy<BlockingAnalysis>(blocking, System.Threading.LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public override DiagnosticDescriptor Descriptor => RuleDescriptors.DMA0005;

    public override void OnOperation(FlowReport report, IOperation operation, FlowState before)
    {
        if (operation is not (IInvocationOperation or IAwaitOperation or IReturnOperation { Kind: OperationKind.YieldReturn } or IObjectCreationOperation or IPropertyReferenceOperation or IEventAssignmentOperation or IBinaryOperation or IUnaryOperation or IConversionOperation or IIncrementOrDecrementOperation or ICompoundAssignmentOperation))
        {
            return;
        }

        MappingRecord? held = null;
        foreach (Config config in before.Configs)
        {
            if (config.AtomicCount == 0)
            {
                continue;
            }

            MappingRecord? atomic = config.Held.FirstOrDefault(m => m.Atomic && m.Callee is null) ?? config.Held.FirstOrDefault(m => m.Atomic);
            if (atomic is not null && (held is null || (held.Callee is not null && atomic.Callee is null)))
            {
                held = atomic;
            }
        }

        if (held is null)
        {
            return;
        }

        string? description;
        string? chain = null;
        Location location;
        if (operation.Kind == OperationKind.YieldReturn)
        {
            // An iterator is suspended at a yield return: its consumer runs whatever it likes, blocking included.
            description = "'yield return'";
            location = operation.Syntax.GetLocation();
        }
        else if (operation is IInvocationOperation { IsImplicit: true } implicitCall && LockOf(implicitCall.Syntax) is { } lockStatement)
        {
            // The graph lowers `lock` to Monitor.Enter/Exit; entering is what blocks.
            if (implicitCall.TargetMethod.Name != "Enter")
            {
                return;
            }

            description = "'lock'";
            location = lockStatement.LockKeyword.GetLocation();
        }
        else if (_blocking.Value.IsBlocking(operation, report.Context.CancellationToken, out description, out chain, report.Context.Method))
        {
            location = LocationOf(operation);
        }
        else
        {
            return;
        }

        string buffer = held.Key >= 0 ? report.BufferName(held.Key) : held.Site.Syntax.ToString();
        report.Report(Descriptor, location, new[] { held.Site.Syntax.GetLocation() }, description ?? "This call", buffer, held.PageText, FlowReport.Line(held.Site), string.IsNullOrEmpty(chain) ? string.Empty : " " + chain);
    }

    private static LockStatementSyntax? LockOf(SyntaxNode syntax) =>
        syntax as LockStatementSyntax ?? syntax.Parent as LockStatementSyntax;

    private static Location LocationOf(IOperation operation)
    {
        if (operation.IsImplicit && operation.Syntax is LockStatementSyntax or UsingStatementSyntax or LocalDeclarationStatementSyntax or CommonForEachStatementSyntax)
        {
            return operation.Syntax.GetFirstToken().GetLocation();
        }

        return operation.Syntax.GetLocation();
    }
}
