// DMA0011: a use of a variable after the code's own Put of the reference it holds, and a Detach through another
// buffer.
using System.Collections.Immutable;
using DmaBuf.Analyzers.Engine;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace DmaBuf.Analyzers.Rules;

/// <summary>
/// DMA0011: a read of a variable (a local, a parameter, a field or property chain) after the code's own Put of the
/// reference it holds on some path, whether or not other references remain (after its put it owns none), until the
/// variable is given a new value; and a <c>Detach</c> on one buffer of an attachment made on another. Reads that only
/// look at the variable (null tests, nameof, IsReleased...) are not uses; two buffer variables that may be the same
/// buffer are never called different.
/// </summary>
internal sealed class UseAfterPutRule : FlowRule
{
    public const string UseAfterPut = "UseAfterPut";

    public const string ForeignDetach = "ForeignDetach";

    public override DiagnosticDescriptor Descriptor => RuleDescriptors.DMA0011;

    public override void OnOperation(FlowReport report, IOperation operation, FlowState before)
    {
        if (operation is ILocalReferenceOperation or IParameterReferenceOperation or IFieldReferenceOperation or IPropertyReferenceOperation)
        {
            OnRead(report, operation, before);
        }
        else if (operation is IInvocationOperation { Instance: { } receiver, Arguments.Length: 1 } detach && KnownSymbols.IsSame(detach.TargetMethod, report.Symbols.Detach))
        {
            OnDetach(report, detach, receiver);
        }
    }

    private void OnRead(FlowReport report, IOperation read, FlowState before)
    {
        if (before.Configs.IsEmpty || !SymbolEqualityComparer.Default.Equals(read.Type, report.Symbols.DmaBuffer) && read is not ILocalReferenceOperation ||
            IsWrite(read) || IsIdentityOnly(read, report.Symbols))
        {
            return;
        }

        int variable = report.Engine.ReleaseId(read);
        if (variable == FlowEngine.NoVariable)
        {
            return;
        }

        foreach (Config config in before.Configs)
        {
            if (config.Released.TryGetValue(variable, out IOperation? put))
            {
                report.Report(
                    Descriptor,
                    read.Syntax.GetLocation(),
                    new[] { put.Syntax.GetLocation() },
                    Kind(UseAfterPut),
                    read.Syntax.ToString(),
                    $"is used after its reference was put at line {FlowReport.Line(put)}");
                return;
            }
        }
    }

    private static bool IsWrite(IOperation local)
    {
        IOperation? parent = local.Parent;
        return parent switch
        {
            ISimpleAssignmentOperation assignment => ReferenceEquals(assignment.Target, local),
            ICompoundAssignmentOperation compound => ReferenceEquals(compound.Target, local),
            IArgumentOperation { Parameter.RefKind: RefKind.Out } => true,
            IDeclarationExpressionOperation => true,
            _ => false,
        };
    }

    /// <summary>
    /// Whether the read only looks at the variable, not at the released buffer's state: a null or reference comparison,
    /// a type test, <c>object.ReferenceEquals</c>, <c>nameof</c>, the members of <c>object</c> (<c>ToString</c> in a
    /// message), an interpolation, and <c>IsReleased</c>/<c>ReferenceCount</c>, which exist to be read after the put.
    /// </summary>
    private static bool IsIdentityOnly(IOperation local, KnownSymbols symbols)
    {
        IOperation current = local;
        IOperation? parent = local.Parent;
        while (parent is IConversionOperation or IParenthesizedOperation)
        {
            current = parent;
            parent = parent.Parent;
        }

        switch (parent)
        {
            case IIsNullOperation or IIsTypeOperation or IIsPatternOperation or INameOfOperation or IInterpolationOperation:
                return true;
            case IBinaryOperation { OperatorKind: BinaryOperatorKind.Equals or BinaryOperatorKind.NotEquals, OperatorMethod: null }:
                return true;
            case IArgumentOperation { Parent: IInvocationOperation call }:
                return call.TargetMethod.IsStatic && call.TargetMethod.ContainingType.SpecialType == SpecialType.System_Object;
            case IPropertyReferenceOperation property when ReferenceEquals(property.Instance, current):
                return SymbolEqualityComparer.Default.Equals(property.Property.OriginalDefinition, symbols.IsReleased) ||
                    SymbolEqualityComparer.Default.Equals(property.Property.OriginalDefinition, symbols.ReferenceCount);
            case IInvocationOperation invocation when ReferenceEquals(invocation.Instance, current):
                return IsObjectMember(invocation.TargetMethod);
            default:
                return false;
        }
    }

    private static bool IsObjectMember(IMethodSymbol method)
    {
        IMethodSymbol root = method;
        while (root.OverriddenMethod is { } overridden)
        {
            root = overridden;
        }

        return root.ContainingType.SpecialType == SpecialType.System_Object;
    }

    private void OnDetach(FlowReport report, IInvocationOperation detach, IOperation receiver)
    {
        // Different buffers for certain: each is the result of its own Export call of this body.
        if (report.Engine.StableValue(receiver) is not IInvocationOperation detachFrom || !KnownSymbols.IsSame(detachFrom.TargetMethod, report.Symbols.Export) ||
            report.Engine.StableValue(detach.Arguments[0].Value) is not IInvocationOperation attach || !KnownSymbols.IsSame(attach.TargetMethod, report.Symbols.Attach) ||
            report.Engine.StableValue(attach.Instance) is not IInvocationOperation attachedTo || !KnownSymbols.IsSame(attachedTo.TargetMethod, report.Symbols.Export) ||
            ReferenceEquals(attachedTo, detachFrom))
        {
            return;
        }

        report.Report(
            Descriptor,
            detach.Syntax.GetLocation(),
            new[] { attach.Syntax.GetLocation() },
            Kind(ForeignDetach),
            receiver.Syntax.ToString(),
            $"detaches '{detach.Arguments[0].Value.Syntax}', which was attached to '{attach.Instance!.Syntax}' at line {FlowReport.Line(attach)}");
    }
}
