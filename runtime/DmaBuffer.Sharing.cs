// The sharing steps of a buffer: attach and detach devices, map and unmap their scatter-gather tables. Each runs its
// exporter callback under the buffer's lock, marked so that a callback cannot re-enter and change the same state.
using System;
using System.Collections.Generic;

namespace DmaBuf;

public sealed partial class DmaBuffer
{
    /// <summary><c>dma_buf_attach()</c>: attaches a device; the exporter may refuse it.</summary>
    /// <param name="device">The device.</param>
    /// <returns>The new attachment.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="device"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The buffer has been released.</exception>
    /// <exception cref="DmaBufException">The exporter refused: <see cref="Errno.EINVAL"/> when the device's constraints cannot be met,
    /// <see cref="Errno.EBUSY"/> when the buffer is already mapped and cannot be migrated for the device.</exception>
    /// <exception cref="InvalidOperationException">Called from inside one of this buffer's exporter callbacks.</exception>
    [MightSleep]
    public DmaBufAttachment Attach(Device device)
    {
        if (device is null)
        {
            throw new ArgumentNullException(nameof(device));
        }

        CheckMightSleep(nameof(Attach));
        lock (Gate)
        {
            ThrowIfReleased();
            CheckNotInCallbackLocked(nameof(Attach));
            var attachment = new DmaBufAttachment(this, device);
            using (new CallbackScope(this))
            {
                _exporter.Attach(attachment);
            }

            attachment.IsAttached = true;
            _attachments.Add(attachment);
            return attachment;
        }
    }

    /// <summary><c>dma_buf_detach()</c>: detaches a device attached with <see cref="Attach"/>.</summary>
    /// <remarks>
    /// With the validator off an attachment may be detached while tables are still mapped, as in the kernel: they are
    /// unmapped through the exporter first. Once its checks pass, a detach cannot be undone half-way, so it always
    /// completes: if the exporter's <c>UnmapDmaBuf</c> or <c>Detach</c> throws, the remaining callbacks still run, the
    /// attachment is detached and its tables unmapped, and the call then throws <see cref="DmaBufException"/> with
    /// <see cref="Errno.EIO"/>, the exporter's exception inside.
    /// </remarks>
    /// <param name="attachment">The attachment.</param>
    /// <exception cref="ArgumentNullException"><paramref name="attachment"/> is null.</exception>
    /// <exception cref="ArgumentException">The attachment belongs to another buffer or is already detached (with the validator on, a <see cref="DmaBufUsageException"/> DMA0011 for another buffer's attachment).</exception>
    /// <exception cref="DmaBufUsageException">With the validator on: the attachment still has a mapped table (DMA0009).</exception>
    /// <exception cref="DmaBufException"><see cref="Errno.EIO"/>: the exporter failed in the detach, which was completed all the same.</exception>
    /// <exception cref="ObjectDisposedException">The buffer has been released.</exception>
    /// <exception cref="InvalidOperationException">Called from inside one of this buffer's exporter callbacks.</exception>
    [MightSleep]
    public void Detach(DmaBufAttachment attachment)
    {
        CheckAttachmentArgument(attachment, "DMA0011");
        CheckMightSleep(nameof(Detach));
        lock (Gate)
        {
            ThrowIfReleased();
            CheckNotInCallbackLocked(nameof(Detach));
            CheckAttachedLocked(attachment);
            if (attachment.MappedTables.Count > 0 && DmaBufValidation.s_enabled)
            {
                throw new DmaBufUsageException("DMA0009", $"{attachment} is detached while {attachment.MappedTables.Count} scatter-gather table(s) are still mapped; call UnmapAttachment first.");
            }

            List<Exception>? failures = null;
            using (new CallbackScope(this))
            {
                foreach (ScatterGatherTable table in attachment.MappedTables.ToArray())
                {
                    Collect(ref failures, () => _exporter.UnmapDmaBuf(attachment, table));
                    attachment.MappedTables.Remove(table);
                    table.MarkUnmapped();
                    _mappedTables--;
                }

                Collect(ref failures, () => _exporter.Detach(attachment));
            }

            attachment.IsAttached = false;
            _attachments.Remove(attachment);
            if (failures is not null)
            {
                Exception inner = failures.Count == 1 ? failures[0] : new AggregateException(failures);
                throw new DmaBufException(Errno.EIO, $"{attachment} is detached, but its exporter failed in the detach: {inner.Message}", inner);
            }
        }
    }

    /// <summary>
    /// <c>dma_buf_map_attachment()</c>: makes the buffer available to the attached device and returns the
    /// scatter-gather table through which it reaches it. The exporter may allocate the backing storage here.
    /// </summary>
    /// <param name="attachment">An attachment of this buffer.</param>
    /// <param name="direction">The direction of the DMA.</param>
    /// <returns>The mapped table; give it back to <see cref="UnmapAttachment"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="attachment"/> is null.</exception>
    /// <exception cref="ArgumentException">The attachment belongs to another buffer or is detached.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="direction"/> is not a defined direction.</exception>
    /// <exception cref="DmaBufException">The exporter failed (for example <see cref="Errno.ENOMEM"/>), or returned no table or one
    /// that was mapped before (<see cref="Errno.EINVAL"/>; such a table is handed back to its <c>UnmapDmaBuf</c>).</exception>
    /// <exception cref="ObjectDisposedException">The buffer has been released.</exception>
    /// <exception cref="InvalidOperationException">Called from inside one of this buffer's exporter callbacks.</exception>
    [MightSleep]
    public ScatterGatherTable MapAttachment(DmaBufAttachment attachment, DmaDataDirection direction)
    {
        CheckAttachmentArgument(attachment, ruleId: null);
        CheckDirection(direction);
        CheckMightSleep(nameof(MapAttachment));
        lock (Gate)
        {
            ThrowIfReleased();
            CheckNotInCallbackLocked(nameof(MapAttachment));
            CheckAttachedLocked(attachment);
            ScatterGatherTable? table;
            using (new CallbackScope(this))
            {
                table = _exporter.MapDmaBuf(attachment, direction);
                if (table is not null && !table.TryBind(attachment, direction))
                {
                    // The exporter counts this map; hand the table back so that it and the runtime agree again.
                    List<Exception>? failures = null;
                    Collect(ref failures, () => _exporter.UnmapDmaBuf(attachment, table));
                    throw new DmaBufException(
                        Errno.EINVAL,
                        $"The exporter's MapDmaBuf for {attachment} returned a scatter-gather table that was already mapped (for {table.Attachment}); map_dma_buf must return a new table. It was handed back to UnmapDmaBuf, and nothing is mapped.",
                        failures?[0]);
                }
            }

            if (table is null)
            {
                throw new DmaBufException(Errno.EINVAL, "The exporter's map_dma_buf returned no table.");
            }

            attachment.MappedTables.Add(table);
            _mappedTables++;
            return table;
        }
    }

    /// <summary><c>dma_buf_unmap_attachment()</c>: the device is done with a table that <see cref="MapAttachment"/> returned.</summary>
    /// <param name="attachment">The attachment the table was mapped for.</param>
    /// <param name="table">The table.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The table is not mapped for this attachment (with the validator on, a <see cref="DmaBufUsageException"/> DMA0009).</exception>
    /// <exception cref="ObjectDisposedException">The buffer has been released.</exception>
    /// <exception cref="InvalidOperationException">Called from inside one of this buffer's exporter callbacks.</exception>
    [MightSleep]
    public void UnmapAttachment(DmaBufAttachment attachment, ScatterGatherTable table)
    {
        CheckAttachmentArgument(attachment, "DMA0009");
        if (table is null)
        {
            throw new ArgumentNullException(nameof(table));
        }

        CheckMightSleep(nameof(UnmapAttachment));
        lock (Gate)
        {
            ThrowIfReleased();
            CheckNotInCallbackLocked(nameof(UnmapAttachment));
            if (!attachment.MappedTables.Contains(table))
            {
                string why = table.Attachment is null
                    ? "was never returned by MapAttachment"
                    : !ReferenceEquals(table.Attachment, attachment)
                        ? $"was mapped for another attachment ({table.Attachment})"
                        : "is already unmapped";
                Refuse("DMA0009", $"The scatter-gather table given to UnmapAttachment for {attachment} {why}.", nameof(table));
            }

            using (new CallbackScope(this))
            {
                _exporter.UnmapDmaBuf(attachment, table);
            }

            attachment.MappedTables.Remove(table);
            table.MarkUnmapped();
            _mappedTables--;
        }
    }

    /// <summary>Runs an exporter callback whose failure cannot stop the call it is part of, collecting what it threw.</summary>
    private static void Collect(ref List<Exception>? failures, Action callback)
    {
        try
        {
            callback();
        }
        catch (Exception e)
        {
            (failures ??= new List<Exception>()).Add(e);
        }
    }

    // ruleId: the rule a foreign attachment breaks, or null when it is a plain bad argument with the validator on too.
    private void CheckAttachmentArgument(DmaBufAttachment attachment, string? ruleId)
    {
        if (attachment is null)
        {
            throw new ArgumentNullException(nameof(attachment));
        }

        if (!ReferenceEquals(attachment.Buffer, this))
        {
            Refuse(ruleId, $"{attachment} belongs to {attachment.Buffer}, not to {this}.", nameof(attachment));
        }
    }

    private static void CheckAttachedLocked(DmaBufAttachment attachment)
    {
        if (!attachment.IsAttached)
        {
            throw new ArgumentException($"{attachment} is already detached.", nameof(attachment));
        }
    }

    private static void Refuse(string? ruleId, string message, string parameterName)
    {
        if (ruleId is not null && DmaBufValidation.s_enabled)
        {
            throw new DmaBufUsageException(ruleId, message);
        }

        throw new ArgumentException(message, parameterName);
    }
}
