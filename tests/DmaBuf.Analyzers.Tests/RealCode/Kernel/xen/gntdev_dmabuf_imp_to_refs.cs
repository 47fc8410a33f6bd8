// Kernel: drivers/xen/gntdev-dmabuf.c, dmabuf_imp_to_refs(), v4.19
// The Xen grant-device import: dma_buf_get() the fd, allocate the import record, attach (kept in u.imp.attach),
// map (the table is kept in u.imp.sgt once the page count matches), walk the table's pages checking pfn_valid,
// grant the other domain access to them, and add the record to the import list under priv->lock. The reference is
// kept by the record through its attachment: dmabuf_imp_release() (ported with it) unmaps, detaches and puts
// attach->dmabuf. The unwinding ladder fail_end_access/fail_unmap/fail_detach/fail_free_obj/fail_put is entered at
// five points, fail_unmap from inside the page walk. pr_debug() prints the sizes only. Correct: silent.
using System.Collections.Generic;
using DmaBuf;

namespace Kernel.Xen.GntdevDmabufImport;

internal sealed class GntdevDmabufPriv
{
    public KMutex Lock { get; } = new KMutex();

    public List<GntdevDmabuf> ImpList { get; } = new List<GntdevDmabuf>();
}

internal sealed class GntdevDmabuf
{
    public GntdevDmabuf(int count)
    {
        NrPages = count;
        Pages = new ulong[count];
        ImpRefs = new uint[count];
    }

    public GntdevDmabufPriv? Priv;
    public int Fd;
    public int NrPages;
    public ulong[] Pages;
    public uint[] ImpRefs;
    public DmaBufAttachment? ImpAttach;
    public ScatterGatherTable? ImpSgt;
}

internal static class GntdevDmabufImport
{
    private const int PageShift = 12;

    private static GntdevDmabuf? ImpAllocStorage(int count) => count > 0 ? new GntdevDmabuf(count) : null;

    private static void ImpFreeStorage(GntdevDmabuf gntdevDmabuf)
    {
    }

    private static bool PfnValid(ulong pfn) => pfn != 0;

    private static int ImpGrantForeignAccess(ulong[] pages, uint[] refs, int count, int domid)
    {
        for (int i = 0; i < count; i++)
            refs[i] = (uint)(i + 1); // gnttab_grant_foreign_access_ref()
        return 0;
    }

    private static void ImpEndForeignAccess(uint[] refs, int count)
    {
        for (int i = 0; i < count; i++)
            refs[i] = 0;
    }

    // ERR_PTR returns are a null record with the errno in err.
    public static GntdevDmabuf? ImpToRefs(GntdevDmabufPriv priv, Device dev, int fd, int count, int domid, out int err)
    {
        GntdevDmabuf? gntdevDmabuf;
        DmaBuffer dmaBuf;
        DmaBufAttachment attach;
        ScatterGatherTable sgt;
        int i;

        try
        {
            dmaBuf = DmaBuffer.Get(fd);
        }
        catch (DmaBufException e)
        {
            err = -e.Errno;
            return null;
        }

        gntdevDmabuf = ImpAllocStorage(count);
        if (gntdevDmabuf == null)
        {
            err = E.ENOMEM;
            goto fail_put;
        }

        gntdevDmabuf.Priv = priv;
        gntdevDmabuf.Fd = fd;

        try
        {
            attach = dmaBuf.Attach(dev);
        }
        catch (DmaBufException e)
        {
            err = -e.Errno;
            goto fail_free_obj;
        }

        gntdevDmabuf.ImpAttach = attach;

        try
        {
            sgt = dmaBuf.MapAttachment(attach, DmaDataDirection.Bidirectional);
        }
        catch (DmaBufException e)
        {
            err = -e.Errno;
            goto fail_detach;
        }

        /* Check number of pages that imported buffer has. */
        if (attach.Buffer.Size != (long)gntdevDmabuf.NrPages << PageShift)
        {
            err = E.EINVAL;
            Log.Debug("DMA buffer has {0} pages, user-space expects {1}", attach.Buffer.Size, gntdevDmabuf.NrPages);
            goto fail_unmap;
        }

        gntdevDmabuf.ImpSgt = sgt;

        /* Now convert sgt to array of pages and check for page validity. */
        i = 0;
        foreach (ScatterGatherEntry sg in sgt.Entries)
        {
            for (long off = 0; off < sg.Length; off += 1L << PageShift)
            {
                ulong page = (sg.DmaAddress + (ulong)off) >> PageShift;
                /*
                 * Check if page is valid: this can happen if we are given
                 * a page from VRAM or other resources which are not backed
                 * by a struct page.
                 */
                if (!PfnValid(page))
                {
                    err = E.EINVAL;
                    goto fail_unmap;
                }

                gntdevDmabuf.Pages[i++] = page;
            }
        }

        err = ImpGrantForeignAccess(gntdevDmabuf.Pages, gntdevDmabuf.ImpRefs, count, domid);
        if (err != 0)
            goto fail_end_access;

        Log.Debug("Imported DMA buffer with fd {0}", fd);

        priv.Lock.Lock();
        priv.ImpList.Add(gntdevDmabuf);
        priv.Lock.Unlock();

        return gntdevDmabuf;

    fail_end_access:
        ImpEndForeignAccess(gntdevDmabuf.ImpRefs, count);
    fail_unmap:
        dmaBuf.UnmapAttachment(attach, sgt);
    fail_detach:
        dmaBuf.Detach(attach);
    fail_free_obj:
        ImpFreeStorage(gntdevDmabuf);
    fail_put:
        dmaBuf.Put();
        return null;
    }

    // dmabuf_imp_find_unlink()
    private static GntdevDmabuf? ImpFindUnlink(GntdevDmabufPriv priv, int fd)
    {
        GntdevDmabuf? ret = null;

        priv.Lock.Lock();
        foreach (GntdevDmabuf gntdevDmabuf in priv.ImpList)
        {
            if (gntdevDmabuf.Fd == fd)
            {
                Log.Debug("Found gntdev_dmabuf in the import list");
                ret = gntdevDmabuf;
                break;
            }
        }

        if (ret != null)
            priv.ImpList.Remove(ret);
        priv.Lock.Unlock();
        return ret;
    }

    public static int ImpRelease(GntdevDmabufPriv priv, int fd)
    {
        GntdevDmabuf? gntdevDmabuf;
        DmaBufAttachment attach;
        DmaBuffer dmaBuf;

        gntdevDmabuf = ImpFindUnlink(priv, fd);
        if (gntdevDmabuf == null)
            return E.ENOENT;

        Log.Debug("Releasing DMA buffer with fd {0}", fd);

        ImpEndForeignAccess(gntdevDmabuf.ImpRefs, gntdevDmabuf.NrPages);

        attach = gntdevDmabuf.ImpAttach!;

        if (gntdevDmabuf.ImpSgt != null)
            attach.Buffer.UnmapAttachment(attach, gntdevDmabuf.ImpSgt);

        dmaBuf = attach.Buffer;
        attach.Buffer.Detach(attach);
        dmaBuf.Put();

        ImpFreeStorage(gntdevDmabuf);
        return 0;
    }
}
