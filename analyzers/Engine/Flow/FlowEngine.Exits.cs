// How a way out of the body is described in messages: the return or throw statement it leaves by, or the closing
// brace it falls off. Syntax only; it touches no state.
using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace DmaBuf.Analyzers.Engine;

internal sealed partial class FlowEngine
{
    private ExitPath DescribeThrow(BasicBlock block)
    {
        SyntaxNode? node = block.BranchValue?.Syntax;
        SyntaxNode? statement = node?.AncestorsAndSelf().FirstOrDefault(n => n is ThrowStatementSyntax or ThrowExpressionSyntax);
        if (statement is null && block.Operations.Length > 0)
        {
            statement = block.Operations[block.Operations.Length - 1].Syntax;
        }

        if (statement is null)
        {
            Location end = BodyEnd();
            return new ExitPath(end, "rethrows at line " + FlowReport.Line(end), isThrow: true);
        }

        Location location = statement.GetLocation();
        return new ExitPath(location, "throws at line " + FlowReport.Line(location), isThrow: true);
    }

    private ExitPath DescribeExit(BasicBlock block)
    {
        if (block.ConditionKind == ControlFlowConditionKind.None && block.BranchValue is not null)
        {
            SyntaxNode node = block.BranchValue.Syntax;
            SyntaxNode statement = node.AncestorsAndSelf().FirstOrDefault(n => n is ReturnStatementSyntax) ?? node;
            Location location = statement.GetLocation();
            return new ExitPath(location, "returns at line " + FlowReport.Line(location), isThrow: false, block.BranchValue);
        }

        (SyntaxNode? anchor, bool strict) = AnchorOf(block);
        if (anchor is not null)
        {
            foreach (ReturnStatementSyntax candidate in ReturnStatements())
            {
                if (candidate.SpanStart >= anchor.Span.End && (!strict || ReturnCovers(candidate, anchor)))
                {
                    Location location = candidate.GetLocation();
                    return new ExitPath(location, "returns at line " + FlowReport.Line(location), isThrow: false);
                }
            }
        }

        Location end = BodyEnd();
        return new ExitPath(end, "falls off the end at line " + FlowReport.Line(end), isThrow: false);
    }

    private (SyntaxNode? Anchor, bool Strict) AnchorOf(BasicBlock block)
    {
        if (block.BranchValue is not null)
        {
            return (block.BranchValue.Syntax, true);
        }

        if (block.Operations.Length > 0)
        {
            return (block.Operations[block.Operations.Length - 1].Syntax, true);
        }

        // An empty block (a `return;` on its own, in a catch or after a join): the code laid out just before it.
        for (int ordinal = block.Ordinal - 1; ordinal > 0; ordinal--)
        {
            BasicBlock previous = _cfg.Blocks[ordinal];
            if (previous.BranchValue is not null || previous.Operations.Length > 0)
            {
                return ((previous.BranchValue ?? previous.Operations[previous.Operations.Length - 1]).Syntax, false);
            }
        }

        return (null, false);
    }

    private static bool ReturnCovers(ReturnStatementSyntax candidate, SyntaxNode anchor)
    {
        SyntaxNode? parent = candidate.Parent;
        if (parent is BlockSyntax or SwitchSectionSyntax)
        {
            return parent.Span.Contains(anchor.Span);
        }

        return parent is IfStatementSyntax or ElseClauseSyntax or WhileStatementSyntax or ForStatementSyntax or ForEachStatementSyntax or DoStatementSyntax
            && (parent is ElseClauseSyntax ? parent.Parent! : parent).Span.Contains(anchor.Span);
    }

    private IEnumerable<ReturnStatementSyntax> ReturnStatements()
    {
        SyntaxNode root = _cfg.OriginalOperation.Syntax;
        return root.DescendantNodes(n => n == root || !(n is AnonymousFunctionExpressionSyntax or LocalFunctionStatementSyntax))
            .OfType<ReturnStatementSyntax>()
            .Where(r => r.Expression is null)
            .OrderBy(r => r.SpanStart);
    }

    private Location BodyEnd()
    {
        SyntaxNode root = _cfg.OriginalOperation.Syntax;
        BlockSyntax? body = root as BlockSyntax ?? root switch
        {
            BaseMethodDeclarationSyntax method => method.Body,
            AccessorDeclarationSyntax accessor => accessor.Body,
            LocalFunctionStatementSyntax local => local.Body,
            AnonymousFunctionExpressionSyntax lambda => lambda.Block,
            _ => null,
        };

        if (body is not null)
        {
            return body.CloseBraceToken.GetLocation();
        }

        SyntaxToken last = root.GetLastToken();
        return last.GetLocation();
    }
}
