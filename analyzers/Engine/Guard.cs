// Runs an analyzer action so that a failure names the file and line it failed on; every action goes through it.
using System;
using Microsoft.CodeAnalysis;

namespace DmaBuf.Analyzers.Engine;

/// <summary>Runs an analyzer action so that a failure names the file and line it failed on.</summary>
internal static class Guard
{
    public static void Run(ISymbol? symbol, SyntaxNode? syntax, Action action)
    {
        try
        {
            action();
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception exception)
        {
            Location? location = syntax?.GetLocation() ?? (symbol is not null && symbol.Locations.Length > 0 ? symbol.Locations[0] : null);
            string where = location is null ? "(unknown location)" : location.GetLineSpan().Path + "(" + (location.GetLineSpan().StartLinePosition.Line + 1) + ")";
            throw new InvalidOperationException("DmaBuf flow analysis failed at " + where + " in '" + symbol?.ToDisplayString() + "': " + exception.Message, exception);
        }
    }
}
