// The frame of the flow-rule test code: the usings, a class C around the members with a Checksum helper and a Use that
// keeps what it is given, and the design's two correct examples every flow rule must stay silent on.
namespace DmaBuf.Analyzers.Tests.Engine;

/// <summary>Wraps test members in a class with the usings the flow-rule tests need.</summary>
internal static class FlowTestCode
{
    public const string Usings =
        "using System;\nusing System.Collections.Generic;\nusing System.Threading;\nusing System.Threading.Tasks;\nusing DmaBuf;\n\n";

    /// <summary>The two correct examples of DESIGN.md section 2, as members of <see cref="Class"/>: every flow rule must stay silent on them.</summary>
    public const string DesignExamples = @"
    void A(DmaBuffer buf)
    {
        buf.BeginCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        var page = buf.KmapAtomic(1);
        Checksum(page.Span);
        buf.KunmapAtomic(1, page);
        buf.EndCpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice);
    }

    void B(DmaBuffer buf)
    {
        using (buf.CpuAccess(0, 2 * DmaBuffer.PageSize, DmaDataDirection.FromDevice))
        using (var page = buf.KmapAtomic(1))
            Checksum(page.Span);
    }";

    /// <summary>
    /// A class <c>C</c> holding <paramref name="members"/>, plus a <c>Checksum(Span&lt;byte&gt;)</c> helper and
    /// <c>Use(object)</c>, a method that keeps what it is given (so handing something to it is handing it away).
    /// </summary>
    public static string Class(string members) =>
        Usings + "class C\n{\n" + members + "\n    static void Checksum(Span<byte> span) { }\n    static void Use(object value) => Kept.Add(value);\n    static readonly List<object> Kept = new();\n}\n";
}
