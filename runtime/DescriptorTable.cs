// The process-wide table of dma-buf descriptors (the file descriptor table of the process, for dma-buf files). Numbers
// are reused at once, lowest free first, as POSIX file descriptors are. The table's lock is never held while a
// buffer's lock is taken: references are counted without a lock, and a close drops its reference outside the table's
// lock, so an exporter callback (which runs under its buffer's lock) may install or look up descriptors.
using System;
using System.Collections.Generic;

namespace DmaBuf;

internal static class DescriptorTable
{
    private static readonly object s_lock = new();
    private static readonly Dictionary<int, Entry> s_entries = new();
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

            s_entries.Add(fd, new Entry(buffer, flags));
            return fd;
        }
    }

    /// <summary>Takes a new reference to the buffer behind <paramref name="fd"/> (which must be <paramref name="bufferId"/>'s, when given).</summary>
    public static DmaBuffer GetReference(int fd, long? bufferId)
    {
        lock (s_lock)
        {
            DmaBuffer buffer = Lookup(fd, bufferId).Buffer;

            // The descriptor holds a reference, so the count is positive: this cannot find the buffer released.
            buffer.AddReference();
            return buffer;
        }
    }

    /// <summary>Closes <paramref name="fd"/> (which must be <paramref name="bufferId"/>'s, when given) and drops its reference.</summary>
    public static void Close(int fd, long? bufferId)
    {
        Entry entry;
        lock (s_lock)
        {
            entry = Lookup(fd, bufferId);
            entry.Closing = true;
        }

        bool last;
        try
        {
            last = entry.Buffer.DropReference();
        }
        catch
        {
            // Refused (the validator, or a call from inside an exporter callback): the descriptor stays open.
            lock (s_lock)
            {
                entry.Closing = false;
            }

            throw;
        }

        lock (s_lock)
        {
            s_entries.Remove(fd);
            s_free.Add(fd);
        }

        if (last)
        {
            entry.Buffer.FinishRelease();
        }
    }

    private static Entry Lookup(int fd, long? bufferId)
    {
        if (!s_entries.TryGetValue(fd, out Entry? entry) || entry.Closing)
        {
            throw new ArgumentException($"{fd} is not an open dma-buf descriptor (EBADF).", nameof(fd));
        }

        if (bufferId is { } id && entry.Buffer.Id != id)
        {
            throw new ArgumentException($"{fd} names {entry.Buffer}, not dma-buf #{id}: that buffer's descriptor was closed and its number reused (EBADF).", nameof(fd));
        }

        return entry;
    }

    private sealed class Entry
    {
        public Entry(DmaBuffer buffer, int flags)
        {
            Buffer = buffer;
            Flags = flags;
        }

        public DmaBuffer Buffer { get; }

        public int Flags { get; }

        /// <summary>A close is dropping the descriptor's reference: the number no longer names the buffer, and is not free yet.</summary>
        public bool Closing { get; set; }
    }
}
