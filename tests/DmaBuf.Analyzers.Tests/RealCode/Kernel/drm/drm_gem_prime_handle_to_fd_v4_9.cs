// Kernel: drivers/gpu/drm/drm_prime.c, drm_gem_prime_handle_to_fd(), v4.9
// PRIME export of a GEM handle to a dma-buf fd. Under the file's prime lock: look the object up; if the handle is
// already in the file's handle->dma_buf cache, take a reference to that buffer (get_dma_buf) and jump to
// out_have_handle; otherwise, under dev->object_name_lock, re-export the original buffer of an imported object or the
// buffer already exported for the object (get_dma_buf, `goto out_have_obj`), or export it now
// (export_and_register_object(), also ported, which keeps one more reference in obj->dma_buf). out_have_obj: adds the
// buffer to the handle cache (drm_prime_add_buf_handle(), also ported, which takes the cache's own reference);
// out_have_handle: installs the fd. A failure to add or to install jumps to fail_put_dmabuf, which drops the
// reference this function took; then out: drops the object reference and out_unlock: the lock.
// One adaptation: the kernel's dma_buf_fd() takes over the caller's reference, while the runtime's Fd() installs a
// descriptor that holds a reference of its own; so the port puts its reference once the descriptor is installed,
// which leaves the counts as the kernel leaves them. get_dma_buf() is Dma.GetDmaBuf (a new reference in the local).
// Correct: silent.
using System.Collections.Generic;
using DmaBuf;

namespace Kernel.Drm.PrimeHandleToFd49;

internal sealed class DrmDevice
{
    public KMutex ObjectNameLock { get; } = new KMutex();
}

internal sealed class DrmGemObject
{
    public DrmGemObject(long size) => Size = size;

    public long Size { get; }

    public int HandleCount { get; set; } = 1;

    public DmaBufAttachment? ImportAttach { get; set; }

    /// <summary>obj->dma_buf: the export cache, holding its own reference.</summary>
    public DmaBuffer? DmaBuf { get; set; }

    public int Refs { get; private set; } = 1;

    public void Reference() => Refs++;

    public void UnreferenceUnlocked() => Refs--;
}

internal sealed class DrmPrimeMember
{
    public DmaBuffer? DmaBuf { get; set; }

    public uint Handle { get; set; }
}

internal sealed class DrmPrimeFilePrivate
{
    public KMutex Lock { get; } = new KMutex();

    public List<DrmPrimeMember> HeadList { get; } = new List<DrmPrimeMember>();
}

internal sealed class DrmFile
{
    public DrmPrimeFilePrivate Prime { get; } = new DrmPrimeFilePrivate();

    public Dictionary<uint, DrmGemObject> Objects { get; } = new Dictionary<uint, DrmGemObject>();
}

/// <summary>drm_gem_prime_dmabuf_ops (not needed by the function beyond being an exporter).</summary>
internal sealed class DrmGemPrimeExporter : DmaBufExporter
{
    public DrmGemPrimeExporter(DrmGemObject obj) => Obj = obj;

    public DrmGemObject Obj { get; }

    protected override ScatterGatherTable MapDmaBuf(DmaBufAttachment attachment, DmaDataDirection direction) =>
        new ScatterGatherTable(new[] { new ScatterGatherEntry(0x9000_0000, Obj.Size) });

    protected override void UnmapDmaBuf(DmaBufAttachment attachment, ScatterGatherTable table)
    {
    }

    protected override void Release(DmaBuffer buffer) => Obj.UnreferenceUnlocked();

    protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber) => 0;

    protected override nint Kmap(DmaBuffer buffer, long pageNumber) => 0;
}

internal static class DrmPrime
{
    private static DrmGemObject? ObjectLookup(DrmFile filp, uint handle)
    {
        if (!filp.Objects.TryGetValue(handle, out DrmGemObject? obj))
            return null;
        obj.Reference();
        return obj;
    }

    private static DmaBuffer? LookupBufByHandle(DrmPrimeFilePrivate prime, uint handle)
    {
        foreach (DrmPrimeMember member in prime.HeadList)
        {
            if (member.Handle == handle)
                return member.DmaBuf;
        }

        return null;
    }

    [MightSleep]
    private static int AddBufHandle(DrmPrimeFilePrivate prime, DmaBuffer dmaBuf, uint handle)
    {
        DrmPrimeMember? member;

        member = Uaccess.Kzalloc<DrmPrimeMember>();
        if (member == null)
            return E.ENOMEM;

        member.DmaBuf = Dma.GetDmaBuf(dmaBuf); // get_dma_buf(dma_buf); member->dma_buf = dma_buf;
        member.Handle = handle;

        prime.HeadList.Add(member);
        return 0;
    }

    private static DmaBuffer? ExportAndRegisterObject(DrmDevice dev, DrmGemObject obj, int flags, out int err)
    {
        DmaBuffer dmabuf;

        /* prevent races with concurrent gem_close. */
        if (obj.HandleCount == 0)
        {
            err = E.ENOENT;
            return null;
        }

        try
        {
            dmabuf = DmaBuffer.Export(new DrmGemPrimeExporter(obj), obj.Size, flags); // dev->driver->gem_prime_export()
        }
        catch (DmaBufException e)
        {
            /* normally the created dma-buf takes ownership of the ref,
             * but if that fails then drop the ref
             */
            err = -e.Errno;
            return null;
        }

        /*
         * Note that callers do not need to clean up the export cache
         * since the check for obj->handle_count guarantees that someone
         * will clean it up.
         */
        obj.DmaBuf = Dma.GetDmaBuf(dmabuf);
        /* Grab a new ref since the callers is now used by the dma-buf */
        obj.Reference();

        err = 0;
        return dmabuf;
    }

    public static int HandleToFd(DrmDevice dev, DrmFile filePriv, uint handle, int flags, out int primeFd)
    {
        DrmGemObject? obj;
        int ret = 0;
        DmaBuffer? dmabuf;

        primeFd = -1;

        filePriv.Prime.Lock.Lock();
        obj = ObjectLookup(filePriv, handle);
        if (obj == null)
        {
            ret = E.ENOENT;
            goto out_unlock;
        }

        dmabuf = LookupBufByHandle(filePriv.Prime, handle);
        if (dmabuf != null)
        {
            dmabuf = Dma.GetDmaBuf(dmabuf); // get_dma_buf(dmabuf);
            goto out_have_handle;
        }

        dev.ObjectNameLock.Lock();
        /* re-export the original imported object */
        if (obj.ImportAttach != null)
        {
            dmabuf = Dma.GetDmaBuf(obj.ImportAttach.Buffer); // dmabuf = obj->import_attach->dmabuf; get_dma_buf(dmabuf);
            goto out_have_obj;
        }

        if (obj.DmaBuf != null)
        {
            dmabuf = Dma.GetDmaBuf(obj.DmaBuf); // get_dma_buf(obj->dma_buf); dmabuf = obj->dma_buf;
            goto out_have_obj;
        }

        dmabuf = ExportAndRegisterObject(dev, obj, flags, out ret);
        if (dmabuf == null)
        {
            /* normally the created dma-buf takes ownership of the ref,
             * but if that fails then drop the ref
             */
            dev.ObjectNameLock.Unlock();
            goto @out;
        }

    out_have_obj:
        /*
         * If we've exported this buffer then cheat and add it to the import list
         * so we get the correct handle back. We must do this under the
         * protection of dev->object_name_lock to ensure that a racing gem close
         * ioctl doesn't miss to remove this buffer handle from the cache.
         */
        ret = AddBufHandle(filePriv.Prime, dmabuf, handle);
        dev.ObjectNameLock.Unlock();
        if (ret != 0)
            goto fail_put_dmabuf;

    out_have_handle:
        try
        {
            ret = dmabuf.Fd(flags);
        }
        catch (DmaBufException e)
        {
            ret = -e.Errno;
        }

        /*
         * We must _not_ remove the buffer from the handle cache since the newly
         * created dma buf is already linked in the global obj->dma_buf pointer,
         * and that is invariant as long as a userspace gem handle exists.
         * Closing the handle will clean out the cache anyway, so we don't leak.
         */
        if (ret < 0)
        {
            goto fail_put_dmabuf;
        }
        else
        {
            primeFd = ret;
            ret = 0;
            dmabuf.Put(); // the descriptor now holds the reference (dma_buf_fd() took ours)
        }

        goto @out;

    fail_put_dmabuf:
        dmabuf.Put();
    @out:
        obj.UnreferenceUnlocked();
    out_unlock:
        filePriv.Prime.Lock.Unlock();

        return ret;
    }
}
