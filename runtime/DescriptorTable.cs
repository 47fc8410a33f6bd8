using System;
using System.Collections.Generic;

namespace DmaBuf;

/// <summary>
/// The process-wide table of dma-buf descriptors (the file descriptor table of the process, for dma-buf files).
/// Lock order: the table's lock, then a buffer's gate; never the reverse.
/// </summary>
internal static class DescriptorTable
{
    private static readonly object s_lock = new();
    private static readonly Dictionary<int, (DmaBuffer Buffer, int Flags)> s_entries = new();
    private static readonly SortedSet<int> s_free = new();
    private static int s_next = 3;

    /// <summary>Installs a descriptor for a buffer whose reference the caller already took for it.</summary>
    public static int Install(DmaBuffer buffer, int flags)
    {
        lock (s_lock)
        {
            int fd;
            if (s_free.Count > 0)
            {
                fd = s_free.Min;
                s_free.Remove(fd);
            }
            else
            {
                fd = s_next == int.MaxValue ? throw new DmaBufException(24, "Too many open dma-buf descriptors (EMFILE).") : s_next++;
            }

            s_entries.Add(fd, (buffer, flags));
            return fd;
        }
    }

    public static DmaBuffer GetReference(int fd)
    {
        lock (s_lock)
        {
            DmaBuffer buffer = Lookup(fd);
            lock (buffer.Gate)
            {
                buffer.AddReferenceLocked();
            }

            return buffer;
        }
    }

    public static void Close(int fd)
    {
        DmaBuffer buffer;
        bool last;
        lock (s_lock)
        {
            buffer = Lookup(fd);
            lock (buffer.Gate)
            {
                last = buffer.DropReferenceLocked();
            }

            s_entries.Remove(fd);
            s_free.Add(fd);
        }

        if (last)
        {
            buffer.FinishRelease();
        }
    }

    private static DmaBuffer Lookup(int fd)
    {
        if (!s_entries.TryGetValue(fd, out var entry))
        {
            throw new ArgumentException($"{fd} is not an open dma-buf descriptor (EBADF).", nameof(fd));
        }

        return entry.Buffer;
    }
}
