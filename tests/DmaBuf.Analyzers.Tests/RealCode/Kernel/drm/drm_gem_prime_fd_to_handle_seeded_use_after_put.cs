// Kernel: drivers/gpu/drm/drm_prime.c, drm_gem_prime_fd_to_handle(), v3.7 (seeded)
// A copy of the v3.7 fd-to-handle helper (see drm_gem_prime_fd_to_handle.cs) with ONE seeded bug: a debug print
// of the imported size added after the success path's dma_buf_put(). The read of dma_buf->size after the function's
// own put is a use after put (DMA0011), whether or not the list and the object still hold references: after its put
// the function owns none. (The handle, a plain integer, is printed too; that is no use of the buffer.)
using System;
using System.Collections.Generic;
using DmaBuf;

namespace Kernel.Drm.PrimeFdToHandleSeeded;

internal sealed class DrmGemObject
{
    public DrmGemObject(DrmDevice dev, long size)
    {
        Dev = dev;
        Size = size;
    }

    public DrmDevice Dev { get; }

    public long Size { get; }

    public DmaBufAttachment? ImportAttach { get; set; }

    /// <summary>The reference get_dma_buf() took at import; drm_prime_gem_destroy() puts it through import_attach->dmabuf.</summary>
    public DmaBuffer? ImportRef { get; set; }

    public ScatterGatherTable? Sg { get; set; }

    public int Refs { get; private set; } = 1;

    public void Reference() => Refs++;

    public void UnreferenceUnlocked() => Refs--;
}

internal sealed class DrmDriver
{
    /// <summary>dev->driver->gem_prime_import_sg_table: the driver builds its object around the table (ERR_PTR is null).</summary>
    public Func<DrmDevice, long, ScatterGatherTable, DrmGemObject?>? GemPrimeImportSgTable { get; init; }
}

internal sealed class DrmDevice
{
    public DrmDevice(Device dev, DrmDriver driver)
    {
        Dev = dev;
        Driver = driver;
    }

    public Device Dev { get; }

    public DrmDriver Driver { get; }
}

// drm_gem_prime_dmabuf_ops (this version): the exporter of GEM objects; kmap and kmap_atomic return NULL.
internal sealed class DrmGemPrimeExporter : DmaBufExporter
{
    public DrmGemPrimeExporter(DrmGemObject obj) => Obj = obj;

    public DrmGemObject Obj { get; }

    protected override ScatterGatherTable MapDmaBuf(DmaBufAttachment attachment, DmaDataDirection direction) =>
        new ScatterGatherTable(new[] { new ScatterGatherEntry(0x300000, Obj.Size) });

    protected override void UnmapDmaBuf(DmaBufAttachment attachment, ScatterGatherTable table)
    {
    }

    protected override void Release(DmaBuffer buffer) => Obj.UnreferenceUnlocked();

    protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber) => 0;

    protected override nint Kmap(DmaBuffer buffer, long pageNumber) => 0;
}

internal static partial class DrmPrime
{
    // drm_gem_prime_import(): ERR_PTR returns are a null object with the errno in ret.
    public static DrmGemObject? GemPrimeImport(DrmDevice dev, DmaBuffer dmaBuf, out int ret)
    {
        DmaBufAttachment attach;
        ScatterGatherTable sgt;
        DrmGemObject? obj;
        DmaBuffer held;

        if (dev.Driver.GemPrimeImportSgTable == null)
        {
            ret = E.EINVAL;
            return null;
        }

        if (dmaBuf.Exporter is DrmGemPrimeExporter own)
        {
            obj = own.Obj;
            if (obj.Dev == dev)
            {
                /*
                 * Importing dmabuf exported from out own gem increases
                 * refcount on gem itself instead of f_count of dmabuf.
                 */
                obj.Reference();
                ret = 0;
                return obj;
            }
        }

        try
        {
            attach = dmaBuf.Attach(dev.Dev);
        }
        catch (DmaBufException e)
        {
            ret = -e.Errno;
            return null;
        }

        held = Dma.GetDmaBuf(dmaBuf);

        try
        {
            sgt = dmaBuf.MapAttachment(attach, DmaDataDirection.Bidirectional);
        }
        catch (DmaBufException e)
        {
            ret = -e.Errno;
            goto fail_detach;
        }

        obj = dev.Driver.GemPrimeImportSgTable(dev, dmaBuf.Size, sgt);
        if (obj == null)
        {
            ret = E.ENOMEM;
            goto fail_unmap;
        }

        obj.ImportAttach = attach;
        obj.ImportRef = held;

        ret = 0;
        return obj;

    fail_unmap:
        dmaBuf.UnmapAttachment(attach, sgt);
    fail_detach:
        dmaBuf.Detach(attach);
        held.Put();

        return null;
    }
}

internal sealed class DrmPrimeMember
{
    public DmaBuffer? DmaBuf;

    public uint Handle;
}

internal sealed class DrmPrimeFilePrivate
{
    public List<DrmPrimeMember> Head { get; } = new List<DrmPrimeMember>();

    public KMutex Lock { get; } = new KMutex();
}

internal sealed class DrmFile
{
    public DrmPrimeFilePrivate Prime { get; } = new DrmPrimeFilePrivate();

    public Dictionary<uint, DrmGemObject> Handles { get; } = new Dictionary<uint, DrmGemObject>();
}

internal static partial class DrmPrime
{
    private static int PrimeAddBufHandle(DrmPrimeFilePrivate primeFpriv, DmaBuffer dmaBuf, uint handle)
    {
        DrmPrimeMember? member;

        member = Uaccess.Kzalloc<DrmPrimeMember>();
        if (member == null)
            return E.ENOMEM;

        member.DmaBuf = Dma.GetDmaBuf(dmaBuf);
        member.Handle = handle;
        primeFpriv.Head.Insert(0, member);
        return 0;
    }

    public static int PrimeLookupBufHandle(DrmPrimeFilePrivate primeFpriv, DmaBuffer dmaBuf, out uint handle)
    {
        foreach (DrmPrimeMember member in primeFpriv.Head)
        {
            if (member.DmaBuf == dmaBuf)
            {
                handle = member.Handle;
                return 0;
            }
        }

        handle = 0;
        return E.ENOENT;
    }

    // drm_gem_handle_create()
    private static int GemHandleCreate(DrmFile filePriv, DrmGemObject obj, out uint handle)
    {
        handle = (uint)filePriv.Handles.Count + 1;
        filePriv.Handles.Add(handle, obj);
        obj.Reference();
        return 0;
    }

    // drm_gem_object_handle_unreference_unlocked()
    private static void GemObjectHandleUnreferenceUnlocked(DrmGemObject obj) => obj.UnreferenceUnlocked();

    public static int GemPrimeFdToHandle(DrmDevice dev, DrmFile filePriv, int primeFd, out uint handle)
    {
        DmaBuffer dmaBuf;
        DrmGemObject? obj;
        int ret;

        handle = 0;
        try
        {
            dmaBuf = DmaBuffer.Get(primeFd);
        }
        catch (DmaBufException e)
        {
            return -e.Errno;
        }

        filePriv.Prime.Lock.Lock();

        ret = PrimeLookupBufHandle(filePriv.Prime, dmaBuf, out handle);
        if (ret == 0)
        {
            ret = 0;
            goto out_put;
        }

        /* never seen this one, need to import (dev->driver->gem_prime_import: drm_gem_prime_import) */
        obj = GemPrimeImport(dev, dmaBuf, out ret);
        if (obj == null)
            goto out_put;

        ret = GemHandleCreate(filePriv, obj, out handle);
        obj.UnreferenceUnlocked();
        if (ret != 0)
            goto out_put;

        ret = PrimeAddBufHandle(filePriv.Prime, dmaBuf, handle);
        if (ret != 0)
            goto fail;

        filePriv.Prime.Lock.Unlock();

        dmaBuf.Put();

        Log.Debug("imported {0} bytes as handle {1}", dmaBuf.Size, handle); // expect: DMA0011

        return 0;

    fail:
        /* hmm, if driver attached, we are relying on the free-object path
         * to detach.. which seems ok..
         */
        GemObjectHandleUnreferenceUnlocked(obj);
    out_put:
        dmaBuf.Put();
        filePriv.Prime.Lock.Unlock();
        return ret;
    }
}
