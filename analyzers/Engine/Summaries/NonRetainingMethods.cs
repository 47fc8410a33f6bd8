// The methods of referenced libraries that can look at an argument but cannot keep it: formatting, logging to the
// console and the debugger, comparisons, argument checks. A buffer, page, scope or table handed to one of them has not
// escaped. The list is by containing type and name; it is documented in docs/rules/analysis.md ("What is an
// escape") and must stay in step with that page.
using System.Collections.Generic;
using Microsoft.CodeAnalysis;

namespace DmaBuf.Analyzers.Engine;

internal static class NonRetainingMethods
{
    /// <summary>Containing type (metadata name) to the method names on it that keep none of their arguments; null means all of them.</summary>
    private static readonly Dictionary<string, HashSet<string>?> Methods = new()
    {
        ["System.Console"] = new HashSet<string> { "Write", "WriteLine" },
        ["System.Diagnostics.Debug"] = null,
        ["System.Diagnostics.Trace"] = null,
        ["System.String"] = new HashSet<string> { "Format", "Concat", "Join", "Equals", "IsNullOrEmpty", "IsNullOrWhiteSpace" },
        ["System.Object"] = new HashSet<string> { "ToString", "Equals", "GetHashCode", "ReferenceEquals", "GetType" },
        ["System.Text.StringBuilder"] = new HashSet<string> { "Append", "AppendFormat", "AppendLine", "Insert" },
        ["System.IO.TextWriter"] = new HashSet<string> { "Write", "WriteLine" },
        ["System.FormattableString"] = new HashSet<string> { "Invariant", "CurrentCulture" },
        ["System.Runtime.CompilerServices.DefaultInterpolatedStringHandler"] = new HashSet<string> { "AppendFormatted", "AppendLiteral" },
        ["System.Text.StringBuilder+AppendInterpolatedStringHandler"] = new HashSet<string> { "AppendFormatted", "AppendLiteral" },
        ["System.Diagnostics.Debug+AssertInterpolatedStringHandler"] = new HashSet<string> { "AppendFormatted", "AppendLiteral" },
        ["System.ArgumentNullException"] = new HashSet<string> { "ThrowIfNull" },
        ["System.ArgumentException"] = new HashSet<string> { "ThrowIfNullOrEmpty", "ThrowIfNullOrWhiteSpace" },
        ["System.ObjectDisposedException"] = new HashSet<string> { "ThrowIf" },
        ["System.GC"] = new HashSet<string> { "KeepAlive", "SuppressFinalize" },
        ["System.Collections.Generic.EqualityComparer`1"] = new HashSet<string> { "Equals", "GetHashCode" },
        ["System.Runtime.CompilerServices.RuntimeHelpers"] = new HashSet<string> { "GetHashCode" },
        ["Microsoft.Extensions.Logging.LoggerExtensions"] = null,
        ["Microsoft.Extensions.Logging.ILogger"] = new HashSet<string> { "Log", "IsEnabled" },
    };

    /// <summary>Whether <paramref name="method"/> (of a referenced library) keeps none of its arguments.</summary>
    public static bool Contains(IMethodSymbol method)
    {
        for (INamedTypeSymbol? type = method.ContainingType; type is not null; type = type.BaseType)
        {
            if (Methods.TryGetValue(MetadataName(type.OriginalDefinition), out HashSet<string>? names) && (names is null || names.Contains(method.Name)))
            {
                return true;
            }
        }

        // An override or implementation of object's members (ToString, Equals, GetHashCode) formats or compares only.
        for (IMethodSymbol? overridden = method.OverriddenMethod; overridden is not null; overridden = overridden.OverriddenMethod)
        {
            if (overridden.ContainingType.SpecialType == SpecialType.System_Object)
            {
                return true;
            }
        }

        return false;
    }

    private static string MetadataName(INamedTypeSymbol type)
    {
        string name = type.MetadataName;
        for (INamedTypeSymbol? outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            name = outer.MetadataName + "+" + name;
            type = outer;
        }

        string ns = type.ContainingNamespace?.ToDisplayString() ?? string.Empty;
        return ns.Length == 0 || type.ContainingNamespace!.IsGlobalNamespace ? name : ns + "." + name;
    }
}
