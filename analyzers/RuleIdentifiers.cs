// The rule ids and the address of each rule's page.
using System;

namespace DmaBuf.Analyzers;

/// <summary>The diagnostic ids of every rule, in one place, and the address of each rule's page.</summary>
public static class RuleIdentifiers
{
    /// <summary>CPU access begun and not ended on some path.</summary>
    public const string UnendedCpuAccess = "DMA0001";

    /// <summary>EndCpuAccess with nothing begun, or with another range or direction.</summary>
    public const string MismatchedEndCpuAccess = "DMA0002";

    /// <summary>A page mapped and not unmapped, or unmapped with the wrong call, page or mapping.</summary>
    public const string UnmatchedKmap = "DMA0003";

    /// <summary>More than two atomic mappings held at once in one thread.</summary>
    public const string TooManyAtomicKmaps = "DMA0004";

    /// <summary>A call that may block while an atomic mapping is held.</summary>
    public const string BlockingInAtomic = "DMA0005";

    /// <summary>A kmap of a page outside the begun CPU access.</summary>
    public const string KmapOutsideBegunRange = "DMA0006";

    /// <summary>A kmap, or an access to a vmap's bytes, with no CPU access begun.</summary>
    public const string KmapWithoutCpuAccess = "DMA0007";

    /// <summary>An exporter's atomic kmap callback that may block.</summary>
    public const string BlockingExporterAtomicCallback = "DMA0008";

    /// <summary>An attachment mapped and not unmapped, unmapped with another attachment's table, or detached while mapped.</summary>
    public const string UnmatchedAttachmentMapping = "DMA0009";

    /// <summary>A buffer reference taken with Get or Export and not put on some path.</summary>
    public const string UnputBufferReference = "DMA0010";

    /// <summary>A buffer used after the code's own Put of it, or a Detach of another buffer's attachment.</summary>
    public const string UseAfterPut = "DMA0011";

    /// <summary>A vmap not vunmapped, vunmapped twice, or vunmapped with another buffer's mapping.</summary>
    public const string UnmatchedVmap = "DMA0012";

    /// <summary>
    /// The base address of the rule pages, derived at build time from the MSBuild property <c>DmaBufRepositoryUrl</c>
    /// (<c>{DmaBufRepositoryUrl}/blob/main/docs/rules/</c>). The same pages ship in the package, under
    /// <c>docs/rules/</c>.
    /// </summary>
    public const string HelpBaseUri = RepositoryLinks.RulePages;

    /// <summary>The address of a rule's page, <c>docs/rules/{id}.md</c>.</summary>
    /// <param name="id">A rule id such as <c>DMA0001</c>.</param>
    /// <returns>The page's address.</returns>
    public static string GetHelpUri(string id) => HelpBaseUri + (id ?? throw new ArgumentNullException(nameof(id))) + ".md";
}
