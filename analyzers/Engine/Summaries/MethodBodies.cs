// The bodies of the compilation's methods, for the summaries that look into a callee: the operation of a method's
// body (block or expression body, constructors included) from one semantic model per syntax tree, and its graph.
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace DmaBuf.Analyzers.Engine;

internal sealed class MethodBodies
{
    private readonly ConcurrentDictionary<SyntaxTree, SemanticModel> _models = new();
    private readonly Compilation _compilation;

    public MethodBodies(Compilation compilation)
    {
        _compilation = compilation;
    }

    /// <summary>The semantic model of a tree of the compilation, made once.</summary>
    public SemanticModel Model(SyntaxTree tree) => _models.GetOrAdd(tree, t =>
    {
#pragma warning disable RS1030 // A callee's summary needs its body; models are made once per tree and cached for the compilation.
        return _compilation.GetSemanticModel(t);
#pragma warning restore RS1030
    });

    /// <summary>Whether a method may be looked into: it is in this compilation and has a body.</summary>
    public bool HasBody(IMethodSymbol method) =>
        method.MethodKind is MethodKind.LocalFunction or MethodKind.AnonymousFunction ||
        (SymbolEqualityComparer.Default.Equals(method.ContainingAssembly, _compilation.Assembly) && !method.IsAbstract && !method.IsExtern && method.DeclaringSyntaxReferences.Length > 0);

    /// <summary>The operation of a method's body (of a local function: the local function), or null when it has none in source.</summary>
    public IOperation? Get(IMethodSymbol method, CancellationToken cancellationToken)
    {
        foreach (SyntaxReference reference in method.DeclaringSyntaxReferences)
        {
            SyntaxNode syntax = reference.GetSyntax(cancellationToken);
            SemanticModel model = Model(syntax.SyntaxTree);
            IOperation? operation = model.GetOperation(syntax, cancellationToken);
            if (operation is IMethodBodyOperation or IConstructorBodyOperation or ILocalFunctionOperation || operation is IBlockOperation { Parent: null })
            {
                return operation;
            }

            // An arrow-bodied member or accessor: the operation of its own expression clause (not one of a member
            // nested in it, as the properties of a record whose primary constructor this is).
            SyntaxNode? arrow = syntax.RawKind == (int)Microsoft.CodeAnalysis.CSharp.SyntaxKind.ArrowExpressionClause
                ? syntax
                : syntax.ChildNodes().FirstOrDefault(n => n.RawKind == (int)Microsoft.CodeAnalysis.CSharp.SyntaxKind.ArrowExpressionClause);
            if (arrow is not null && model.GetOperation(arrow, cancellationToken) is IBlockOperation { Parent: null } arrowBlock)
            {
                return arrowBlock;
            }
        }

        return null;
    }

    /// <summary>Whether a body is an iterator's (it has a yield): called, it runs nothing until enumerated.</summary>
    public static bool IsIterator(IOperation body)
    {
        foreach (IOperation op in body.Descendants())
        {
            if (op is IReturnOperation { Kind: OperationKind.YieldReturn or OperationKind.YieldBreak })
            {
                return true;
            }
        }

        return false;
    }

    public static ControlFlowGraph? CreateGraph(IOperation body, CancellationToken cancellationToken) => body switch
    {
        IMethodBodyOperation method => ControlFlowGraph.Create(method, cancellationToken),
        IConstructorBodyOperation constructor => ControlFlowGraph.Create(constructor, cancellationToken),
        IBlockOperation block => ControlFlowGraph.Create(block, cancellationToken),
        _ => null,
    };
}
