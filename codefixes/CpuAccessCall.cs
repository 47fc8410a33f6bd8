// The CPU access calls as the DMA0001 and DMA0002 fixes see them, in either form (a range, or the whole buffer): which
// call a node is, whether its arguments are those of its form, and the end or scope written with a begin's arguments.
using System.Linq;
using System.Threading;
using DmaBuf.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace DmaBuf.CodeFixes;

/// <summary>
/// <c>BeginCpuAccess</c>, <c>EndCpuAccess</c> and <c>CpuAccess</c>, ranged (<c>start, length, direction</c>) or over the
/// whole buffer (<c>direction</c>). An end written from a begin keeps the begin's form: its arguments are the begin's
/// own, so a whole-buffer begin gets a whole-buffer end, and a ranged one the same range.
/// </summary>
internal static class CpuAccessCall
{
    /// <summary>Whether the call is either <c>BeginCpuAccess</c>.</summary>
    public static bool IsBegin(SemanticModel model, KnownSymbols symbols, InvocationExpressionSyntax? call, CancellationToken cancellationToken) =>
        call is not null && symbols.IsBegin(FixSyntax.Method(model, call, cancellationToken));

    /// <summary>Whether the call is either <c>EndCpuAccess</c>.</summary>
    public static bool IsEnd(SemanticModel model, KnownSymbols symbols, InvocationExpressionSyntax? call, CancellationToken cancellationToken) =>
        call is not null && symbols.IsEnd(FixSyntax.Method(model, call, cancellationToken));

    /// <summary>Whether the call is either <c>CpuAccess</c> (a scope).</summary>
    public static bool IsScope(SemanticModel model, KnownSymbols symbols, InvocationExpressionSyntax? call, CancellationToken cancellationToken) =>
        call is not null && symbols.IsScope(FixSyntax.Method(model, call, cancellationToken));

    /// <summary>Whether the call begins, ends or scopes CPU access, in either form.</summary>
    public static bool IsAny(SemanticModel model, KnownSymbols symbols, InvocationExpressionSyntax? call, CancellationToken cancellationToken)
    {
        IMethodSymbol? method = call is null ? null : FixSyntax.Method(model, call, cancellationToken);
        return symbols.IsBegin(method) || symbols.IsEnd(method) || symbols.IsScope(method);
    }

    /// <summary>
    /// Whether the arguments are written in the order of the call's form, without names: <c>(start, length,
    /// direction)</c> or <c>(direction)</c>. Only such arguments can be copied to another call of the same form.
    /// </summary>
    public static bool HasPositionalArguments(InvocationExpressionSyntax call) =>
        call.ArgumentList.Arguments.Count is 1 or 3 && call.ArgumentList.Arguments.All(a => a.NameColon is null);

    /// <summary>The direction argument: the last one, in either form.</summary>
    public static ArgumentSyntax Direction(InvocationExpressionSyntax call) => call.ArgumentList.Arguments.Last();

    /// <summary>
    /// The call with another method name (<c>EndCpuAccess</c>, <c>CpuAccess</c>), its receiver and arguments kept, so
    /// in the same form: <c>buf.Name(...)</c>, or the <c>.Name(...)</c> of <c>buf?.Name(...)</c>. Without outer trivia.
    /// </summary>
    public static InvocationExpressionSyntax Renamed(InvocationExpressionSyntax call, string name)
    {
        ExpressionSyntax expression = call.Expression switch
        {
            MemberAccessExpressionSyntax access => access.WithName(SyntaxFactory.IdentifierName(name).WithTriviaFrom(access.Name)),
            MemberBindingExpressionSyntax binding => binding.WithName(SyntaxFactory.IdentifierName(name).WithTriviaFrom(binding.Name)),
            _ => call.Expression,
        };
        return call.WithExpression(expression).WithoutTrivia();
    }
}
