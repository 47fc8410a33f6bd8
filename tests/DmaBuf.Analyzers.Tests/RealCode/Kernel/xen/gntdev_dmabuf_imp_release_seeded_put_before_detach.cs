// Kernel: drivers/xen/gntdev-dmabuf.c, dmabuf_imp_release(), v4.18 (seeded)
// dmabuf_imp_release() (ported correct, with dmabuf_imp_to_refs(), in gntdev_dmabuf_imp_to_refs.cs) with ONE seeded bug: the order the kernel code
// keeps a local for: the reference is put through the local first and the attachment then detached through the same
// local. After its own put the local holds no reference (the buffer may be gone with it), so the Detach is a use
// after put (DMA0011 at the Detach).
using System;
using System.Collections.Generic;
using DmaBuf;

namespace Kernel.Xen.GntdevImpRelease418Seeded;

internal sealed class GntdevDmabufImp
{
    public DmaBufAttachment? Attach;
    public ScatterGatherTable? Sgt;
    public uint[] Refs = Array.Empty<uint>();
}

internal sealed class GntdevDmabuf
{
    public int Fd;
    public int NrPages;
    public GntdevDmabufImp Imp { get; } = new GntdevDmabufImp();
}

internal sealed class GntdevDmabufPriv
{
    public KMutex Lock { get; } = new KMutex();

    public List<GntdevDmabuf> ImpList { get; } = new List<GntdevDmabuf>();
}

internal static class GntdevDmabufImport
{
    private static GntdevDmabuf? ImpFindUnlink(GntdevDmabufPriv priv, int fd)
    {
        GntdevDmabuf? ret = null;

        priv.Lock.Lock();
        foreach (GntdevDmabuf q in priv.ImpList)
        {
            if (q.Fd == fd)
            {
                ret = q;
                break;
            }
        }

        if (ret != null)
            priv.ImpList.Remove(ret);
        priv.Lock.Unlock();
        return ret;
    }

    // dmabuf_imp_end_foreign_access(): gnttab_end_foreign_access() for every valid grant reference.
    private static void ImpEndForeignAccess(uint[] refs, int count)
    {
    }

    // dmabuf_imp_free_storage(): kfree of the pages, refs and the structure.
    private static void ImpFreeStorage(GntdevDmabuf gntdevDmabuf)
    {
    }

    public static int ImpRelease(GntdevDmabufPriv priv, int fd)
    {
        GntdevDmabuf? gntdevDmabuf;
        DmaBufAttachment attach;
        DmaBuffer dmaBuf;

        gntdevDmabuf = ImpFindUnlink(priv, fd);
        if (gntdevDmabuf == null)
            return E.ENOENT; // PTR_ERR(gntdev_dmabuf)

        Log.Debug("Releasing DMA buffer with fd {0}", fd);

        ImpEndForeignAccess(gntdevDmabuf.Imp.Refs, gntdevDmabuf.NrPages);

        attach = gntdevDmabuf.Imp.Attach!;

        if (gntdevDmabuf.Imp.Sgt != null)
            attach.Buffer.UnmapAttachment(attach, gntdevDmabuf.Imp.Sgt);

        dmaBuf = attach.Buffer;
        dmaBuf.Put();
        dmaBuf.Detach(attach); // expect: DMA0011

        ImpFreeStorage(gntdevDmabuf);
        return 0;
    }
}
