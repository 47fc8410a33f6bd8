// An attachment (struct dma_buf_attachment): one device attached to one buffer, and the tables mapped for it.
using System.Collections.Generic;

namespace DmaBuf;

/// <summary>
/// The kernel's <c>struct dma_buf_attachment</c>: one device attached to one buffer, returned by
/// <see cref="DmaBuffer.Attach"/> and given back to <see cref="DmaBuffer.Detach"/>.
/// </summary>
public sealed class DmaBufAttachment
{
    internal readonly List<ScatterGatherTable> MappedTables = new();

    internal DmaBufAttachment(DmaBuffer buffer, Device device)
    {
        Buffer = buffer;
        Device = device;
    }

    /// <summary>The buffer the device is attached to (<c>attach-&gt;dmabuf</c>).</summary>
    public DmaBuffer Buffer { get; }

    /// <summary>The attached device (<c>attach-&gt;dev</c>).</summary>
    public Device Device { get; }

    /// <summary>Whether the attachment is still attached (true until <see cref="DmaBuffer.Detach"/>).</summary>
    public bool IsAttached { get; internal set; }

    /// <summary>How many scatter-gather tables are mapped for this attachment now.</summary>
    public int MappedTableCount
    {
        get
        {
            lock (Buffer.Gate)
            {
                return MappedTables.Count;
            }
        }
    }

    /// <summary>Data the exporter keeps for this attachment (the kernel's <c>attach-&gt;priv</c>).</summary>
    public object? ExporterData { get; set; }

    /// <inheritdoc />
    public override string ToString() => $"attachment of '{Device.Name}' to {Buffer}";
}
