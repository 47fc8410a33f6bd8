// Kernel: drivers/misc/fastrpc.c, fastrpc_map_create(), v5.1
// The Qualcomm FastRPC driver maps a user dma-buf for the DSP: an existing map for the fd is reused
// (fastrpc_map_find() takes a kref under fl->mutex); otherwise allocate the map, take the reference with
// dma_buf_get() into map->buf, attach into map->attach, map into map->table, record the DSP address and add the map
// to fl->maps. map_err/attach_err/get_err unwind through the fields. fastrpc_free_map() (the kref release, ported
// with it) unmaps, detaches and puts them. Everything lives in fields of the map from the moment it is made: the
// reference, attachment and table are handed on when taken. Correct: silent.
using System.Collections.Generic;
using DmaBuf;

namespace Kernel.Misc.Fastrpc;

internal sealed class FastrpcSessionCtx
{
    public FastrpcSessionCtx(Device dev) => Dev = dev;

    public Device Dev { get; }

    public int Sid { get; set; }
}

internal sealed class FastrpcUser
{
    public FastrpcUser(FastrpcSessionCtx sctx) => Sctx = sctx;

    public FastrpcSessionCtx Sctx { get; }

    public List<FastrpcMap> Maps { get; } = new List<FastrpcMap>();

    public KMutex Mutex { get; } = new KMutex();

    public object Lock { get; } = new object();
}

internal sealed class FastrpcMap
{
    public FastrpcUser? Fl;
    public int Fd;
    public DmaBuffer? Buf;
    public DmaBufAttachment? Attach;
    public ScatterGatherTable? Table;
    public ulong Phys;
    public ulong Size;
    public ulong Va;
    public ulong Len;
    public int Refcount;
}

internal static class Fastrpc
{
    private static void FreeMap(FastrpcMap map)
    {
        if (map.Table != null)
        {
            map.Buf!.UnmapAttachment(map.Attach!, map.Table);
            map.Buf.Detach(map.Attach!);
            map.Buf.Put();
        }

        // kfree(map);
    }

    private static void MapPut(FastrpcMap map)
    {
        if (--map.Refcount == 0) // kref_put(&map->refcount, fastrpc_free_map)
            FreeMap(map);
    }

    private static void MapGet(FastrpcMap map) => map.Refcount++;

    private static int MapFind(FastrpcUser fl, int fd, ref FastrpcMap? ppmap)
    {
        fl.Mutex.Lock();
        foreach (FastrpcMap map in fl.Maps)
        {
            if (map.Fd == fd)
            {
                MapGet(map);
                ppmap = map;
                fl.Mutex.Unlock();
                return 0;
            }
        }

        fl.Mutex.Unlock();

        return E.ENOENT;
    }

    public static int MapCreate(FastrpcUser fl, int fd, ulong len, ref FastrpcMap? ppmap)
    {
        FastrpcSessionCtx sess = fl.Sctx;
        FastrpcMap? map;
        int err = 0;

        if (MapFind(fl, fd, ref ppmap) == 0)
            return 0;

        map = Uaccess.Kzalloc<FastrpcMap>();
        if (map == null)
            return E.ENOMEM;

        map.Fl = fl;
        map.Fd = fd;
        try
        {
            map.Buf = DmaBuffer.Get(fd);
        }
        catch (DmaBufException e)
        {
            err = -e.Errno;
            goto get_err;
        }

        try
        {
            map.Attach = map.Buf.Attach(sess.Dev);
        }
        catch (DmaBufException e)
        {
            Log.Error("Failed to attach dmabuf");
            err = -e.Errno;
            goto attach_err;
        }

        try
        {
            map.Table = map.Buf.MapAttachment(map.Attach, DmaDataDirection.Bidirectional);
        }
        catch (DmaBufException e)
        {
            err = -e.Errno;
            goto map_err;
        }

        map.Phys = map.Table.Entries[0].DmaAddress;
        map.Phys += (ulong)fl.Sctx.Sid << 32;
        map.Size = len;
        map.Va = map.Table.Entries[0].DmaAddress; // sg_virt(map->table->sgl)
        map.Len = len;
        map.Refcount = 1; // kref_init(&map->refcount)

        lock (fl.Lock)
        {
            fl.Maps.Add(map);
        }

        ppmap = map;

        return 0;

    map_err:
        map.Buf.Detach(map.Attach);
    attach_err:
        map.Buf.Put();
    get_err:
        // kfree(map);

        return err;
    }
}
