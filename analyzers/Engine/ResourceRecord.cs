// The records of sharing steps (references taken, attachments, tables mapped) that a body must give back.
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace DmaBuf.Analyzers.Engine;

/// <summary>What a sharing step of the body gave it to give back.</summary>
internal enum ResourceKind
{
    /// <summary>A buffer reference taken with <c>DmaBuffer.Export</c> or <c>DmaBuffer.Get</c>, to be dropped with <c>Put</c>.</summary>
    Reference,

    /// <summary>A scatter-gather table from <c>MapAttachment</c>, to be given back with <c>UnmapAttachment</c>.</summary>
    Table,

    /// <summary>
    /// The reference a buffer parameter brings from the caller, followed only while a method is summarized: whether the
    /// method puts it, keeps it or leaves it to the caller on each way out.
    /// </summary>
    CallerReference,

    /// <summary>A mapping of the whole buffer from <c>Vmap</c>, to be given back with <c>Vunmap</c> or its <c>Dispose</c>.</summary>
    Vmap,
}

/// <summary>
/// A buffer reference, an attachment's table or a vmap that this body took and may still hold (DMA0009–DMA0012),
/// held by locals and flow captures like a mapping.
/// </summary>
internal sealed class ResourceRecord : IPathRecord
{
    public ResourceRecord(IOperation site, int siteId, ResourceKind kind, ImmutableArray<int> holders, bool escaped, bool sole, int attachment, string? name, int key = -1)
    {
        Key = key;
        Site = site;
        SiteId = siteId;
        Kind = kind;
        Holders = holders;
        Escaped = escaped;
        Sole = sole;
        Attachment = attachment;
        Name = name;
    }

    /// <summary>The <c>Export</c>, <c>Get</c>, <c>MapAttachment</c> or <c>Vmap</c> call (the method's body for a caller's reference).</summary>
    public IOperation Site { get; }

    /// <summary>The call that took a reference or mapped a table.</summary>
    public IInvocationOperation Call => (IInvocationOperation)Site;

    public int SiteId { get; }

    public ResourceKind Kind { get; }

    /// <summary>The locals and flow captures that hold the buffer or the table.</summary>
    public ImmutableArray<int> Holders { get; }

    /// <summary>Handed to code the analysis cannot see: never reported as not given back.</summary>
    public bool Escaped { get; }

    /// <summary>
    /// For a reference: it is the buffer's only one, so its <c>Put</c> is the last (a buffer this body exported, with no
    /// descriptor installed and never handed away).
    /// </summary>
    public bool Sole { get; }

    /// <summary>For a table: the holder id of the attachment it was mapped from, or -1 when that cannot be followed.</summary>
    public int Attachment { get; }

    /// <summary>For a vmap: the key id of the buffer it maps, or -1 when the receiver cannot be followed.</summary>
    public int Key { get; }

    /// <summary>Whether the reference is the buffer's only one is part of the record's identity.</summary>
    public int Variant => Sole ? 1 : 0;

    /// <summary>The first local that held it, for messages; not part of the record's identity.</summary>
    public string? Name { get; }

    public ResourceRecord With(ImmutableArray<int>? holders = null, bool? escaped = null, bool? sole = null, string? name = null) =>
        new(Site, SiteId, Kind, holders ?? Holders, escaped ?? Escaped, sole ?? Sole, Attachment, Name ?? name, Key);
}
