// The engine's clients: the events a rule is told of (operations, kmaps, unmaps, ways out) with the state before them;
// clients only read the state.
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace DmaBuf.Analyzers.Engine;

/// <summary>
/// A client of the dataflow engine: the engine calls it in its final pass, with the fixed-point state just before
/// each event; a client only reads the state. Rules (<see cref="FlowRule"/>) report through <see cref="FlowReport"/>;
/// the summary of a callee is collected by a client too (<see cref="ContractCollector"/>).
/// </summary>
internal abstract class FlowClient
{
    public virtual void OnBegin(FlowReport report, IInvocationOperation begin, int key, AccessRange range, FlowState before)
    {
    }

    /// <summary>An EndCpuAccess, a scope's disposal, or a call whose callee ends the caller's access (<paramref name="via"/>).</summary>
    public virtual void OnEnd(FlowReport report, IInvocationOperation end, int key, AccessRange range, FlowState before, Via? via)
    {
    }

    public virtual void OnKmap(FlowReport report, KmapEvent kmap, FlowState before)
    {
    }

    public virtual void OnUnmap(FlowReport report, UnmapEvent unmap, FlowState before)
    {
    }

    /// <summary>A <c>Vunmap</c> call or a vmap's <c>Dispose</c>.</summary>
    public virtual void OnVunmap(FlowReport report, VunmapEvent vunmap, FlowState before)
    {
    }

    /// <summary>An access to a vmap's bytes (<c>GetSpan</c>).</summary>
    public virtual void OnVmapAccess(FlowReport report, VmapAccessEvent access, FlowState before)
    {
    }

    public virtual void OnCall(FlowReport report, IInvocationOperation call, MethodSummary summary, FlowState before)
    {
    }

    public virtual void OnOperation(FlowReport report, IOperation operation, FlowState before)
    {
    }

    public virtual void OnExit(FlowReport report, ExitPath exit, FlowState state)
    {
    }
}

/// <summary>One rule's small piece of logic, as a client of the engine.</summary>
internal abstract class FlowRule : FlowClient
{
    /// <summary>The diagnostic property that tells a code fix which case of its rule was reported.</summary>
    public const string KindProperty = "Kind";

    /// <summary>The rule this client reports.</summary>
    public abstract DiagnosticDescriptor Descriptor { get; }

    /// <summary>The properties of a report of the given <see cref="KindProperty">kind</see>.</summary>
    protected static ImmutableDictionary<string, string?> Kind(string kind) =>
        ImmutableDictionary<string, string?>.Empty.Add(KindProperty, kind);
}

/// <summary>A <c>Kmap</c> or <c>KmapAtomic</c> call, or a call whose callee maps the caller's buffer (<see cref="Via"/>).</summary>
internal sealed class KmapEvent
{
    public KmapEvent(IInvocationOperation call, int key, Interval? page, string pageText, bool atomic, Via? via = null)
    {
        Call = call;
        Key = key;
        Page = page;
        PageText = pageText;
        Atomic = atomic;
        Via = via;
    }

    /// <summary>For a call: the callee's kmap that relies on the caller's access; null for a kmap in the body.</summary>
    public Via? Via { get; }

    public IInvocationOperation Call { get; }

    public int Key { get; }

    public Interval? Page { get; }

    public string PageText { get; }

    public bool Atomic { get; }
}

/// <summary>A <c>Kunmap</c> or <c>KunmapAtomic</c> call (or a page's Dispose), with the holders its mapping argument denotes.</summary>
internal sealed class UnmapEvent
{
    public UnmapEvent(IInvocationOperation call, int key, Interval? page, string pageText, bool atomic, System.Collections.Immutable.ImmutableArray<int> holders, IOperation? mapping, bool isDispose)
    {
        Mapping = mapping;
        IsDispose = isDispose;
        Call = call;
        Key = key;
        Page = page;
        PageText = pageText;
        Atomic = atomic;
        Holders = holders;
    }

    public IInvocationOperation Call { get; }

    public int Key { get; }

    public Interval? Page { get; }

    public string PageText { get; }

    public bool Atomic { get; }

    public System.Collections.Immutable.ImmutableArray<int> Holders { get; }

    /// <summary>The expression that denotes the mapping: the page argument, or the receiver of Dispose.</summary>
    public IOperation? Mapping { get; }

    /// <summary>A <c>DmaBufPage.Dispose()</c> (the matching unmap by construction) rather than a Kunmap call.</summary>
    public bool IsDispose { get; }
}

/// <summary>A way out of the body: a return, falling off the end, or an explicit throw that is not caught.</summary>
internal sealed class ExitPath
{
    public ExitPath(Location location, string description, bool isThrow, IOperation? returnValue = null)
    {
        Location = location;
        Description = description;
        IsThrow = isThrow;
        ReturnValue = returnValue;
    }

    /// <summary>The value a return statement returns, or null.</summary>
    public IOperation? ReturnValue { get; }

    /// <summary>Where the path leaves: the return or throw statement, or the closing brace.</summary>
    public Location Location { get; }

    /// <summary>"returns at line 20", "throws at line 18", "falls off the end at line 25".</summary>
    public string Description { get; }

    public bool IsThrow { get; }
}

/// <summary>A <c>Vunmap(map)</c> call or a vmap's <c>Dispose()</c>, with the holders its mapping denotes.</summary>
internal sealed class VunmapEvent
{
    public VunmapEvent(IInvocationOperation call, int key, ImmutableArray<int> holders, IOperation? mapping, bool isDispose)
    {
        Call = call;
        Key = key;
        Holders = holders;
        Mapping = mapping;
        IsDispose = isDispose;
    }

    public IInvocationOperation Call { get; }

    /// <summary>The key id of the buffer Vunmap is called on (-1 for a Dispose, or a receiver that cannot be followed).</summary>
    public int Key { get; }

    /// <summary>The locals and flow captures the mapping argument (or Dispose's receiver) denotes; empty when it is none.</summary>
    public ImmutableArray<int> Holders { get; }

    /// <summary>The expression that denotes the vmap.</summary>
    public IOperation? Mapping { get; }

    /// <summary>A <c>DmaBufVmap.Dispose()</c> (it vunmaps from its own buffer by construction).</summary>
    public bool IsDispose { get; }
}

/// <summary>An access to the bytes of a vmap (<c>map.GetSpan(offset, length)</c>), with the holders its receiver denotes.</summary>
internal sealed class VmapAccessEvent
{
    public VmapAccessEvent(IInvocationOperation call, ImmutableArray<int> holders)
    {
        Call = call;
        Holders = holders;
    }

    public IInvocationOperation Call { get; }

    /// <summary>The locals and flow captures the receiver denotes.</summary>
    public ImmutableArray<int> Holders { get; }
}
