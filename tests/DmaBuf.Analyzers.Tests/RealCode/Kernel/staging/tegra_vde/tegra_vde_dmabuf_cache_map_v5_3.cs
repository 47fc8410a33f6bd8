// Kernel: drivers/staging/media/tegra-vde/dmabuf-cache.c, tegra_vde_dmabuf_cache_map(), v5.3
// The v5.3 Tegra decoder keeps imported dma-bufs mapped in a cache, and tegra_vde_attach_dmabuf() (vde.c, same
// driver) now hands its dma_buf_get() reference to tegra_vde_dmabuf_cache_map():
// - on a cache hit (an entry for the same buffer whose delayed unmap could be cancelled) the cache already holds a
//   reference, so cache_map PUTS the caller's and returns 0 (goto ref);
// - on a miss it attaches, maps, checks, allocates the entry (err_unmap/err_detach/err_unlock unwinding), keeps
//   attachment and table in the entry, and the caller's reference stays with the entry (its attachment);
// - on an error the reference is still the caller's, which puts it at err_put.
// tegra_vde_release_entry() later unmaps, detaches and puts entry->a->dmabuf.
// Findings in the caller, tegra_vde_attach_dmabuf(): the two size checks still `return -EINVAL` without a put
// (DMA0010 at each, the bug of tegra_vde_attach_dmabuf_v4_16.cs), and after a successful cache_map, which on a hit
// has put the caller's reference, it reads dmabuf->size (DMA0011: a use after the reference was consumed by the
// callee, even though the cache entry keeps the buffer alive). The err_put put is not a double put: cache_map puts
// only on the path that returns 0.
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using DmaBuf;

namespace Kernel.TegraVde.Cache53;

internal sealed class Iova
{
    public ulong PfnLo;
}

internal sealed class TegraVde
{
    public TegraVde(Device parent) => MiscdevParent = parent;

    public Device MiscdevParent { get; }

    public object? Domain { get; set; }

    public KMutex MapLock { get; } = new KMutex();

    public List<TegraVdeCacheEntry> MapList { get; } = new List<TegraVdeCacheEntry>();
}

internal sealed class TegraVdeCacheEntry
{
    public DmaDataDirection DmaDir;
    public DmaBufAttachment A = null!;
    public bool DworkPending;
    public TegraVde Vde = null!;
    public ScatterGatherTable Sgt = null!;
    public Iova? Iova;
    public uint Refcnt;

    // cancel_delayed_work(&entry->dwork): true when the pending delayed unmap was cancelled.
    public bool CancelDelayedWork()
    {
        bool pending = DworkPending;
        DworkPending = false;
        return pending;
    }
}

internal static class TegraVdeDmabufCache
{
    private static ulong IovaDmaAddr(TegraVde vde, Iova iova) => iova.PfnLo << 12;

    // tegra_vde_iommu_map() / tegra_vde_iommu_unmap() (iommu.c)
    private static int IommuMap(TegraVde vde, ScatterGatherTable sgt, out Iova? iovap, long size)
    {
        iovap = new Iova { PfnLo = sgt.Entries[0].DmaAddress >> 12 };
        return 0;
    }

    private static void IommuUnmap(TegraVde vde, Iova? iova)
    {
    }

    private static void ReleaseEntry(TegraVdeCacheEntry entry)
    {
        DmaBuffer dmabuf = entry.A.Buffer;

        if (entry.Refcnt != 0)
            Log.Error("WARN_ON_ONCE(entry->refcnt)");

        if (entry.Vde.Domain != null)
            IommuUnmap(entry.Vde, entry.Iova);

        dmabuf.UnmapAttachment(entry.A, entry.Sgt);
        dmabuf.Detach(entry.A);
        dmabuf.Put();

        entry.Vde.MapList.Remove(entry);
    }

    public static int DmabufCacheMap(TegraVde vde, DmaBuffer dmabuf, DmaDataDirection dmaDir,
        ref DmaBufAttachment? ap, ref ulong addrp)
    {
        Device dev = vde.MiscdevParent;
        DmaBufAttachment attachment;
        TegraVdeCacheEntry? entry;
        ScatterGatherTable sgt;
        Iova? iova;
        int err;

        vde.MapLock.Lock();

        foreach (TegraVdeCacheEntry cached in vde.MapList)
        {
            if (cached.A.Buffer != dmabuf)
                continue;

            if (!cached.CancelDelayedWork())
                continue;

            if (cached.DmaDir != dmaDir)
                cached.DmaDir = DmaDataDirection.Bidirectional;

            dmabuf.Put();

            if (vde.Domain != null)
                addrp = IovaDmaAddr(vde, cached.Iova!);
            else
                addrp = cached.Sgt.Entries[0].DmaAddress;

            entry = cached;
            goto take_ref; // goto ref
        }

        try
        {
            attachment = dmabuf.Attach(dev);
        }
        catch (DmaBufException e)
        {
            Log.Error("Failed to attach dmabuf");
            err = -e.Errno;
            goto err_unlock;
        }

        try
        {
            sgt = dmabuf.MapAttachment(attachment, dmaDir);
        }
        catch (DmaBufException e)
        {
            Log.Error("Failed to get dmabufs sg_table");
            err = -e.Errno;
            goto err_detach;
        }

        if (vde.Domain == null && sgt.Entries.Count > 1)
        {
            Log.Error("Sparse DMA region is unsupported, please enable IOMMU");
            err = E.EINVAL;
            goto err_unmap;
        }

        entry = Uaccess.Kzalloc<TegraVdeCacheEntry>();
        if (entry == null)
        {
            err = E.ENOMEM;
            goto err_unmap;
        }

        if (vde.Domain != null)
        {
            err = IommuMap(vde, sgt, out iova, dmabuf.Size);
            if (err != 0)
                goto err_free;

            addrp = IovaDmaAddr(vde, iova!);
        }
        else
        {
            addrp = sgt.Entries[0].DmaAddress;
            iova = null;
        }

        // INIT_DELAYED_WORK(&entry->dwork, tegra_vde_delayed_unmap);
        vde.MapList.Insert(0, entry);

        entry.DmaDir = dmaDir;
        entry.Iova = iova;
        entry.Vde = vde;
        entry.Sgt = sgt;
        entry.A = attachment;
    take_ref:
        entry.Refcnt++;

        ap = entry.A;

        vde.MapLock.Unlock();

        return 0;

    err_free:
        entry = null; // kfree(entry);
    err_unmap:
        dmabuf.UnmapAttachment(attachment, sgt);
    err_detach:
        dmabuf.Detach(attachment);
    err_unlock:
        vde.MapLock.Unlock();

        return err;
    }

    public static void DmabufCacheUnmap(TegraVde vde, DmaBufAttachment a, bool release)
    {
        vde.MapLock.Lock();

        foreach (TegraVdeCacheEntry entry in vde.MapList)
        {
            if (entry.A != a)
                continue;

            if (entry.Refcnt == 0)
                Log.Error("WARN_ON_ONCE(!entry->refcnt)");

            if (--entry.Refcnt == 0)
            {
                if (release)
                    ReleaseEntry(entry);
                else
                    entry.DworkPending = true; // schedule_delayed_work(&entry->dwork, 5 * HZ);
            }

            break;
        }

        vde.MapLock.Unlock();
    }

    // tegra_vde_attach_dmabuf() (drivers/staging/media/tegra-vde/vde.c, v5.3)
    public static int AttachDmabuf(TegraVde vde, int fd, long offset, long minSize, long alignSize,
        ref DmaBufAttachment? a, ref ulong addrp, StrongBox<long>? size, DmaDataDirection dmaDir)
    {
        Device dev = vde.MiscdevParent;
        DmaBuffer dmabuf;
        int err;

        try
        {
            dmabuf = DmaBuffer.Get(fd);
        }
        catch (DmaBufException e)
        {
            Log.Error("Invalid dmabuf FD {0}", dev);
            return -e.Errno;
        }

        if ((dmabuf.Size & (alignSize - 1)) != 0)
        {
            Log.Error("Unaligned dmabuf 0x{0:X}, should be aligned to 0x{1:X}", dmabuf.Size, alignSize);
            return E.EINVAL; // expect: DMA0010
        }

        if (offset + minSize > dmabuf.Size)
        {
            Log.Error("Too small dmabuf size {0} @0x{1:X}, should be at least {2}", dmabuf.Size, offset, minSize);
            return E.EINVAL; // expect: DMA0010
        }

        err = DmabufCacheMap(vde, dmabuf, dmaDir, ref a, ref addrp);
        if (err != 0)
            goto err_put;

        addrp = addrp + (ulong)offset;

        if (size != null)
            size.Value = dmabuf.Size - offset; // expect: DMA0011

        return 0;

    err_put:
        dmabuf.Put();

        return err;
    }
}
