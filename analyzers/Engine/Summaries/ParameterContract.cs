// What a method of the compilation requires of its caller and leaves it, per buffer (or vmap) parameter: the contract a
// call is checked against and applied with (Infer's pre- and postconditions, inferred from the body, no annotations).
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis.Operations;

namespace DmaBuf.Analyzers.Engine;

internal sealed class ParameterContract
{
    private ParameterContract(bool isUnknown, IInvocationOperation? requiredBy, IInvocationOperation? endedBy, IInvocationOperation? leftOpenBy, IInvocationOperation? putBy, IInvocationOperation? vunmappedBy = null, int vunmapBuffer = -1)
    {
        IsUnknown = isUnknown;
        RequiredBy = requiredBy;
        EndedBy = endedBy;
        LeftOpenBy = leftOpenBy;
        PutBy = putBy;
        VunmappedBy = vunmappedBy;
        VunmapBuffer = vunmappedBy is null ? -1 : vunmapBuffer;
    }

    /// <summary>
    /// The callee may keep the buffer, or does things to it that differ from path to path: the caller takes the argument
    /// as handed away (what is open on it is not called leaked; later ends and kmaps are not judged against it).
    /// </summary>
    public static ParameterContract Unknown { get; } = new(true, null, null, null, null);

    /// <summary>The callee keeps nothing of the buffer and leaves its state as it was.</summary>
    public static ParameterContract None { get; } = new(false, null, null, null, null);

    public bool IsUnknown { get; }

    /// <summary>
    /// The kmap (or EndCpuAccess) in the callee that relies on CPU access the caller began: a caller with none begun on
    /// the argument gets DMA0007 (or DMA0002) at the call.
    /// </summary>
    public IInvocationOperation? RequiredBy { get; }

    /// <summary>The EndCpuAccess in the callee that ends the caller's access, on every way the callee returns.</summary>
    public IInvocationOperation? EndedBy { get; }

    /// <summary>The BeginCpuAccess in the callee that it leaves begun on every way it returns: the caller must end it.</summary>
    public IInvocationOperation? LeftOpenBy { get; }

    /// <summary>The Put in the callee that gives back the caller's reference on every way it returns.</summary>
    public IInvocationOperation? PutBy { get; }

    /// <summary>
    /// The Vunmap or Dispose in the callee (or the call that does it, deeper) that gives back the caller's vmap on every
    /// way it returns: the call vunmaps the vmap passed as this parameter.
    /// </summary>
    public IInvocationOperation? VunmappedBy { get; }

    /// <summary>The ordinal of the buffer parameter the callee vunmaps it through (`b.Vunmap(m)`), or -1 (a Dispose, another buffer).</summary>
    public int VunmapBuffer { get; }

    public bool HasEffects => IsConditional || RequiredBy is not null || EndedBy is not null || LeftOpenBy is not null || PutBy is not null || VunmappedBy is not null;

    /// <summary>What the callee leaves of this parameter differs by the way it returns: see <see cref="MethodSummary.Cases"/>.</summary>
    public bool IsConditional { get; private set; }

    public static ParameterContract Conditional(IInvocationOperation? requiredBy) =>
        new(false, requiredBy, null, null, null) { IsConditional = true };

    public static ParameterContract Of(IInvocationOperation? requiredBy, IInvocationOperation? endedBy, IInvocationOperation? leftOpenBy, IInvocationOperation? putBy) =>
        requiredBy is null && endedBy is null && leftOpenBy is null && putBy is null ? None : new(false, requiredBy, endedBy, leftOpenBy, putBy);

    /// <summary>A vmap parameter that the callee vunmaps on every way it returns (through buffer parameter <paramref name="buffer"/>, or -1).</summary>
    public static ParameterContract Vunmapped(IInvocationOperation vunmappedBy, int buffer) => new(false, null, null, null, null, vunmappedBy, buffer);
}

/// <summary>A report made at a call for something its callee does: the callee's own operation and name, for messages.</summary>
internal sealed class Via
{
    public Via(IInvocationOperation site, string callee)
    {
        Site = site;
        Callee = callee;
    }

    /// <summary>The kmap, end or begin in the callee (or deeper) that the report is about.</summary>
    public IInvocationOperation Site { get; }

    public string Callee { get; }

    /// <summary>"the call to 'Fill', which maps it at line 30" and the like.</summary>
    public string Describe(string what) => $"the call to '{Callee}', which {what} at line {FlowReport.Line(Site)}";
}

/// <summary>
/// One way a callee returns, when what it leaves its caller differs from one way to another: the value it returns
/// then, and per parameter ordinal the begin it leaves open and the Put it made (null for none).
/// </summary>
internal sealed class ExitCase
{
    public ExitCase(Fact result, ImmutableArray<IInvocationOperation?> leftOpenBy, ImmutableArray<IInvocationOperation?> putBy, ImmutableArray<bool> kept)
    {
        Result = result;
        LeftOpenBy = leftOpenBy;
        PutBy = putBy;
        Kept = kept;
    }

    /// <summary>Per parameter ordinal, whether the callee kept (handed away) the buffer on this way out.</summary>
    public ImmutableArray<bool> Kept { get; }

    public Fact Result { get; }

    public ImmutableArray<IInvocationOperation?> LeftOpenBy { get; }

    public ImmutableArray<IInvocationOperation?> PutBy { get; }

    public ExitCase Join(Fact result) => new(Result.Join(result), LeftOpenBy, PutBy, Kept);

    /// <summary>Whether two ways out leave the caller the same (the same sites, parameter by parameter).</summary>
    public bool SameEffects(ImmutableArray<IInvocationOperation?> leftOpenBy, ImmutableArray<IInvocationOperation?> putBy, ImmutableArray<bool> kept) =>
        LeftOpenBy.SequenceEqual(leftOpenBy, SameSite) && PutBy.SequenceEqual(putBy, SameSite) && Kept.SequenceEqual(kept);

    private static bool SameSite(IInvocationOperation? a, IInvocationOperation? b) => ReferenceEquals(a, b);
}
