// Every diagnostic descriptor, with its category, severity and help link; the only place descriptors are built.
using Microsoft.CodeAnalysis;

namespace DmaBuf.Analyzers;

/// <summary>
/// Every descriptor the analyzers report, built in one place so that each carries its category, default
/// severity and help link. The raw <see cref="DiagnosticDescriptor"/> constructor is banned elsewhere.
/// </summary>
internal static class RuleDescriptors
{
    private const string Category = "DmaBuf";

    /// <summary>DMA0001. Args: {0} buffer, {1} range, {2} line of the begin, {3} the path ("returns at line 20", "throws at line 18", "falls off the end").</summary>
    public static readonly DiagnosticDescriptor DMA0001 = Create(
        RuleIdentifiers.UnendedCpuAccess,
        "CPU access begun and not ended",
        "CPU access to '{0}' ({1}) begun at line {2} is not ended on the path that {3}",
        "Every dma_buf_begin_cpu_access needs a dma_buf_end_cpu_access with the same range and direction on every path, so that the exporter can flush caches and unpin. Use a CpuAccess scope or end the access in a finally block.");

    /// <summary>DMA0002. Args: {0} buffer, {1} the end's range, {2} what is wrong ("no CPU access is begun on some path", "the access begun at line 12 is bytes 0..8191 FromDevice").</summary>
    public static readonly DiagnosticDescriptor DMA0002 = Create(
        RuleIdentifiers.MismatchedEndCpuAccess,
        "EndCpuAccess does not match a begun CPU access",
        "EndCpuAccess on '{0}' ({1}) does not match: {2}",
        "dma_buf_end_cpu_access announces the end of the range specified in begin_cpu_access; an end with nothing begun, or with another range or direction, flushes the wrong range.");

    /// <summary>DMA0003. Args: {0} buffer, {1} page, {2} what is wrong ("is not unmapped on the path that returns at line 20", "is unmapped with Kunmap but was mapped with KmapAtomic at line 9").</summary>
    public static readonly DiagnosticDescriptor DMA0003 = Create(
        RuleIdentifiers.UnmatchedKmap,
        "Mapped page not unmapped, or unmapped with the wrong call",
        "Page {1} of '{0}' {2}",
        "A chunk mapped with dma_buf_kmap or dma_buf_kmap_atomic needs to be unmapped again with the matching call, page number and mapping.");

    /// <summary>DMA0004. Args: {0} what adds the mapping ("The atomic mapping of page 2 of 'buf'", "The call to 'Helper', which holds up to 2 atomic kmaps,"), {1} where the others are held ("lines 10 and 11").</summary>
    public static readonly DiagnosticDescriptor DMA0004 = Create(
        RuleIdentifiers.TooManyAtomicKmaps,
        "More than two atomic kmaps held at the same time",
        "{0} makes more than two atomic kmaps held at once (others held from {1}); an importer shall hold at most 2",
        "An importer shall only hold onto at most 2 atomic dma_buf kmaps at the same time (in any given process context).");

    /// <summary>DMA0005. Args: {0} the blocking call, {1} buffer, {2} page, {3} line of the atomic kmap, {4} the chain of calls down to the blocking operation (" (→ Inner → Thread.Sleep at line 12)", or empty).</summary>
    public static readonly DiagnosticDescriptor DMA0005 = Create(
        RuleIdentifiers.BlockingInAtomic,
        "Call that may block while an atomic kmap is held",
        "{0} may block{4} while the atomic mapping of page {2} of '{1}' from line {3} is held",
        "Neither the importer nor the exporter (in the callback) is allowed to block when using the atomic kmap interfaces.");

    /// <summary>DMA0006. Args: {0} buffer, {1} page, {2} begun range, {3} line of the begin.</summary>
    public static readonly DiagnosticDescriptor DMA0006 = Create(
        RuleIdentifiers.KmapOutsideBegunRange,
        "Kmap outside the begun CPU access",
        "Page {1} of '{0}' is outside the CPU access ({2}) begun at line {3}",
        "dma_buf kmap calls outside of the range specified in begin_cpu_access are undefined.");

    /// <summary>DMA0007. Args: {0} buffer, {1} page, {2} why ("no CPU access is begun", "the CPU access was ended at line 14").</summary>
    public static readonly DiagnosticDescriptor DMA0007 = Create(
        RuleIdentifiers.KmapWithoutCpuAccess,
        "Kmap with no CPU access begun",
        "Page {1} of '{0}' is mapped but {2}",
        "Before an importer can access a dma_buf object with the cpu, it needs to notify the exporter with begin_cpu_access; the result of any kmap after end_cpu_access is undefined.");

    /// <summary>
    /// DMA0007 for an access to a vmap's bytes: the same rule (id, title, category, severity), with a message of its own.
    /// The analyzer declares <see cref="DMA0007"/> only (one descriptor per id, which the rule's id stands for); this one
    /// only words the vmap case. Args: {0} buffer, {1} line of the Vmap, {2} why (as for a kmap).
    /// </summary>
    public static readonly DiagnosticDescriptor DMA0007Vmap = Create(
        RuleIdentifiers.KmapWithoutCpuAccess,
        "Kmap with no CPU access begun",
        "The vmap of '{0}' made at line {1} is accessed but {2}",
        "Before an importer can access a dma_buf object with the cpu, it needs to notify the exporter with begin_cpu_access; the result of any access through a vmap (or a kmap) after end_cpu_access is undefined.");

    /// <summary>DMA0008. Args: {0} the override, {1} the blocking call, {2} the chain of calls down to the blocking operation (" (→ Inner → Thread.Sleep at line 12)", or empty).</summary>
    public static readonly DiagnosticDescriptor DMA0008 = Create(
        RuleIdentifiers.BlockingExporterAtomicCallback,
        "Exporter's atomic kmap callback may block",
        "'{0}' is an atomic kmap callback and must not block, but {1} may block{2}",
        "Neither the importer nor the exporter (in the callback) is allowed to block when using the atomic kmap interfaces.");

    /// <summary>DMA0009. Args: {0} attachment, {1} line of the MapAttachment, {2} what is wrong ("is not unmapped on the path that returns at line 20", "is unmapped through another attachment, 'other'", "is still mapped when 'att' is detached").</summary>
    public static readonly DiagnosticDescriptor DMA0009 = Create(
        RuleIdentifiers.UnmatchedAttachmentMapping,
        "Attachment mapping not unmapped, or unmapped or detached out of order",
        "The table of '{0}' mapped at line {1} {2}",
        "Every dma_buf_map_attachment needs a dma_buf_unmap_attachment with the same attachment and the table it returned, before the attachment is detached with dma_buf_detach.");

    /// <summary>DMA0010. Args: {0} buffer, {1} the call that took the reference (Export, Get), {2} its line, {3} the path.</summary>
    public static readonly DiagnosticDescriptor DMA0010 = Create(
        RuleIdentifiers.UnputBufferReference,
        "Buffer reference taken and not put",
        "The reference to '{0}' taken by {1} at line {2} is not put on the path that {3}",
        "dma_buf_get and dma_buf_export each give the caller a reference that it must drop with dma_buf_put once it is done, unless it hands the reference on; a reference never put keeps the buffer and its backing storage alive.");

    /// <summary>DMA0011. Args: {0} buffer, {1} what is wrong ("is used after its reference was put at line 12", "detaches 'att', which was attached to 'other' at line 9").</summary>
    public static readonly DiagnosticDescriptor DMA0011 = Create(
        RuleIdentifiers.UseAfterPut,
        "Buffer used after its own Put, or attachment detached from another buffer",
        "'{0}' {1}",
        "After its dma_buf_put the code owns no reference to the buffer, which may be released at any time and must not be used through that variable again; dma_buf_detach takes the buffer the attachment was made on.");

    /// <summary>DMA0012. Args: {0} buffer, {1} line of the Vmap, {2} what is wrong ("is not vunmapped on the path that returns at line 20", "is vunmapped again: ...", "is vunmapped through 'b', another buffer; ...").</summary>
    public static readonly DiagnosticDescriptor DMA0012 = Create(
        RuleIdentifiers.UnmatchedVmap,
        "Vmap not vunmapped, or vunmapped twice or through another buffer",
        "The vmap of '{0}' made at line {1} {2}",
        "Every dma_buf_vmap needs a dma_buf_vunmap of the same buffer with the mapping it returned, once, on every path: the buffer counts its vmaps, and the exporter's mapping stays until the last one is vunmapped.");

    private static DiagnosticDescriptor Create(string id, string title, string message, string description) =>
#pragma warning disable RS0030 // The one place that may call the banned constructor.
        new(id, title, message, Category, DiagnosticSeverity.Warning, isEnabledByDefault: true, description, RuleIdentifiers.GetHelpUri(id));
#pragma warning restore RS0030
}
