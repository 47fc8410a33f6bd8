// The errno values, the exporter-failure exception that carries one, and the validator's usage exception.
using System;

namespace DmaBuf;

/// <summary>The Linux errno values that <see cref="DmaBufException"/> carries.</summary>
public static class Errno
{
    /// <summary>
    /// I/O error (<c>EIO</c>): an exporter's callback threw where the kernel's cannot fail (<c>release</c>, <c>detach</c>,
    /// the <c>unmap_dma_buf</c> of a detach). The runtime completed the call all the same; the exporter's exception is the inner one.
    /// </summary>
    public const int EIO = 5;

    /// <summary>Bad file descriptor (<c>EBADF</c>).</summary>
    public const int EBADF = 9;

    /// <summary>Out of memory (<c>ENOMEM</c>).</summary>
    public const int ENOMEM = 12;

    /// <summary>Device or resource busy (<c>EBUSY</c>): for example an attach after the first map that the exporter cannot migrate for.</summary>
    public const int EBUSY = 16;

    /// <summary>Invalid argument (<c>EINVAL</c>): for example a device whose DMA constraints cannot be met.</summary>
    public const int EINVAL = 22;
}

/// <summary>
/// An exporter failed an operation, as a kernel dma-buf call that returns a negative errno
/// (for example <c>dma_buf_attach</c> or <c>dma_buf_begin_cpu_access</c>). A failed call changes nothing, except
/// where <see cref="Errno"/> is <see cref="DmaBuf.Errno.EIO"/>: then the call was completed and the exporter failed in it.
/// </summary>
public class DmaBufException : Exception
{
    /// <summary>Creates the exception with its errno and a message.</summary>
    /// <param name="errno">The positive errno value, for example <see cref="DmaBuf.Errno.ENOMEM"/>.</param>
    /// <param name="message">What failed and why.</param>
    public DmaBufException(int errno, string message)
        : base(message)
    {
        Errno = errno;
    }

    /// <summary>Creates the exception with its errno, a message and the exception that caused it.</summary>
    /// <param name="errno">The positive errno value.</param>
    /// <param name="message">What failed and why.</param>
    /// <param name="innerException">The cause.</param>
    public DmaBufException(int errno, string message, Exception? innerException)
        : base(message, innerException)
    {
        Errno = errno;
    }

    /// <summary>The positive errno value the kernel call would have returned negated (<c>ENOMEM</c>, <c>EBUSY</c>, <c>EINVAL</c>...).</summary>
    public int Errno { get; }
}

/// <summary>
/// The runtime validator caught a broken dma-buf usage rule (DMA0001–DMA0012) at the moment it was broken:
/// the run-time counterpart of the analyzer diagnostic with the same <see cref="RuleId"/>, as lockdep and
/// <c>CONFIG_DEBUG_ATOMIC_SLEEP</c> are for the kernel. The call that throws it changes nothing, with two
/// exceptions that report something already done: DMA0005 from a <see cref="DmaBuffer.KunmapAtomic"/> on another
/// thread than the one that mapped the page (the page is unmapped, and no longer counted for the mapping thread), and
/// DMA0003 from a last <see cref="DmaBuffer.Put"/> that finds atomic mappings held by threads that have exited (they
/// are unmapped, so the next put can release the buffer).
/// </summary>
/// <remarks>
/// A use of a buffer after its last put (DMA0011) is not this type: it is the <see cref="ObjectDisposedException"/> the
/// runtime throws with the validator off too, so that callers catch one type either way; with the validator on its
/// message starts with <c>DMA0011:</c>, its <see cref="Exception.HelpLink"/> names the rule page and
/// <c>Data["RuleId"]</c> is <c>"DMA0011"</c>. (This type derives from <see cref="InvalidOperationException"/> and is
/// sealed, so no exception can be both.)
/// </remarks>
public sealed class DmaBufUsageException : InvalidOperationException
{
    /// <summary>Creates the exception for a rule.</summary>
    /// <param name="ruleId">The rule identifier, for example <c>DMA0004</c>.</param>
    /// <param name="message">What was broken, naming the buffer and the page or range.</param>
    public DmaBufUsageException(string ruleId, string message)
        : base(ruleId + ": " + message)
    {
        RuleId = ruleId ?? throw new ArgumentNullException(nameof(ruleId));
        HelpLink = RepositoryLinks.RulePages + ruleId + ".md";
    }

    /// <summary>The identifier of the broken rule, the same as the analyzer's diagnostic id (for example <c>DMA0005</c>).</summary>
    public string RuleId { get; }
}
