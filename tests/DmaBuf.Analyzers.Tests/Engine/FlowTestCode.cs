namespace DmaBuf.Analyzers.Tests.Engine;

/// <summary>Wraps test members in a class with the usings the flow-rule tests need.</summary>
internal static class FlowTestCode
{
    public const string Usings =
        "using System;\nusing System.Collections.Generic;\nusing System.Threading;\nusing System.Threading.Tasks;\nusing DmaBuf;\n\n";

    /// <summary>A class <c>C</c> holding <paramref name="members"/>, plus a <c>Checksum(Span&lt;byte&gt;)</c> helper.</summary>
    public static string Class(string members) =>
        Usings + "class C\n{\n" + members + "\n    static void Checksum(Span<byte> span) { }\n    static void Use(object value) { }\n}\n";
}
