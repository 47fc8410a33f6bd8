// How the shipped exporters collate the DMA constraints of the devices attached to a buffer, and the segment layout
// those constraints allow.
using System;
using System.Collections.Generic;

namespace DmaBuf;

/// <summary>The DMA constraints of a set of devices, collated: the strictest of each.</summary>
internal readonly struct CollatedConstraints
{
    private CollatedConstraints(long maxSegmentPages, int maxSegmentCount, bool contiguous)
    {
        MaxSegmentPages = maxSegmentPages;
        MaxSegmentCount = maxSegmentCount;
        Contiguous = contiguous;
    }

    /// <summary>The largest segment in whole pages (0 when a device cannot take even one page).</summary>
    public long MaxSegmentPages { get; }

    public int MaxSegmentCount { get; }

    public bool Contiguous { get; }

    public static CollatedConstraints Of(IEnumerable<Device> devices)
    {
        long maxPages = long.MaxValue;
        int maxCount = int.MaxValue;
        bool contiguous = false;
        foreach (Device device in devices)
        {
            maxPages = Math.Min(maxPages, device.MaxSegmentSize / DmaBuffer.PageSize);
            maxCount = Math.Min(maxCount, device.MaxSegmentCount);
            contiguous |= device.RequiresContiguous;
        }

        return new CollatedConstraints(maxPages, maxCount, contiguous);
    }

    public static CollatedConstraints Of(DmaBufAttachment extra)
    {
        var devices = new List<Device>();
        foreach (DmaBufAttachment attachment in extra.Buffer.Attachments)
        {
            devices.Add(attachment.Device);
        }

        devices.Add(extra.Device);
        return Of(devices);
    }

    /// <summary>
    /// The segment size, in pages, for a buffer of <paramref name="pages"/> pages laid out in equal segments,
    /// preferring <paramref name="preferredPages"/>; 0 when the constraints cannot be met.
    /// </summary>
    public long SegmentPages(long pages, long preferredPages)
    {
        if (MaxSegmentPages < 1)
        {
            return 0;
        }

        if (Contiguous)
        {
            return MaxSegmentPages >= pages ? pages : 0;
        }

        long fewestPagesForCount = (pages + MaxSegmentCount - 1) / MaxSegmentCount;
        long segment = Math.Min(MaxSegmentPages, Math.Max(Math.Min(preferredPages, pages), fewestPagesForCount));
        return (pages + segment - 1) / segment <= MaxSegmentCount ? segment : 0;
    }

    /// <summary>Whether segments of <paramref name="segmentPages"/> pages, <paramref name="segmentCount"/> of them, meet these constraints.</summary>
    public bool Accepts(long segmentPages, long segmentCount) =>
        segmentPages <= MaxSegmentPages && segmentCount <= MaxSegmentCount && (!Contiguous || segmentCount == 1);

    public string Describe(Device device) =>
        $"device '{device.Name}' (max segment {device.MaxSegmentSize} bytes, max {device.MaxSegmentCount} segments{(device.RequiresContiguous ? ", contiguous" : string.Empty)})";
}
