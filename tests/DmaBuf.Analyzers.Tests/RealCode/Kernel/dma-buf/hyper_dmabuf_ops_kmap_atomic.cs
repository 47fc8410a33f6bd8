// Kernel: drivers/xen/hyper_dmabuf/hyper_dmabuf_imp.c, hyper_dmabuf_ops_kmap_atomic(), downor/linux_hyper_dmabuf@32b45bb533dd (2017 RFC)
// The exporter side of the hyper_dmabuf RFC (Intel's inter-VM dma-buf sharing, posted to dri-devel in 2017): every
// dma_buf_ops callback of an imported buffer forwards the operation to the exporting VM with
// hyper_dmabuf_sync_request_and_wait(), which kcalloc()s a request with GFP_KERNEL (may sleep) and sends it on the
// ring. The atomic callbacks do the same, so both kmap_atomic and kunmap_atomic may sleep in atomic context: DMA0008
// at the sync request in each. The same call in attach, begin_cpu_access, kmap and the other callbacks is allowed
// (they may sleep). The buffer's priv is the imported sg-table info; kmap returns NULL ("for now").
using DmaBuf;

namespace Kernel.HyperDmabuf.Ops;

internal sealed class HyperDmabufRingRq
{
    public int Command;
    public int[] Operands = new int[2];
}

internal sealed class HyperDmabufImportedSgtInfo
{
    public int HyperDmabufId;
}

internal static class HyperDmabufImp
{
    public const int HyperDmabufOpsToSource = 1;
    public const int HyperDmabufOpsAttach = 0x1000;
    public const int HyperDmabufOpsDetach = 0x1001;
    public const int HyperDmabufOpsMap = 0x1002;
    public const int HyperDmabufOpsUnmap = 0x1003;
    public const int HyperDmabufOpsRelease = 0x1004;
    public const int HyperDmabufOpsBeginCpuAccess = 0x1005;
    public const int HyperDmabufOpsEndCpuAccess = 0x1006;
    public const int HyperDmabufOpsKmapAtomic = 0x1007;
    public const int HyperDmabufOpsKunmapAtomic = 0x1008;
    public const int HyperDmabufOpsKmap = 0x1009;
    public const int HyperDmabufOpsKunmap = 0x100a;

    public static int SdomainId(int hyperDmabufId) => (hyperDmabufId >> 24) & 0xff; // HYPER_DMABUF_ID_IMPORTER_GET_SDOMAIN_ID

    private static void CreateRequest(HyperDmabufRingRq req, int command, int[] operands)
    {
        req.Command = command;
        req.Operands[0] = operands[0];
        req.Operands[1] = operands[1];
    }

    // hyper_dmabuf_send_request() (xen/hyper_dmabuf_xen_comm.c): puts the request on the ring to the domain.
    private static int SendRequest(int domain, HyperDmabufRingRq req) => domain >= 0 ? 0 : E.EINVAL;

    public static int SyncRequestAndWait(int id, int ops)
    {
        HyperDmabufRingRq? req;
        int[] operands = new int[2];
        int ret;

        operands[0] = id;
        operands[1] = ops;

        req = Uaccess.Kzalloc<HyperDmabufRingRq>(); // kcalloc(1, sizeof(*req), GFP_KERNEL)

        CreateRequest(req!, HyperDmabufOpsToSource, operands);

        /* send request */
        ret = SendRequest(id, req!);

        /* TODO: wait until it gets response.. or can we just move on? */

        // kfree(req);

        return ret;
    }
}

internal sealed class HyperDmabufExporter : DmaBufExporter
{
    public HyperDmabufExporter(HyperDmabufImportedSgtInfo sgtInfo) => Priv = sgtInfo;

    public HyperDmabufImportedSgtInfo? Priv { get; }

    private static void Printk(string format, params object?[] args) => Log.Error(format, args);

    protected override void Attach(DmaBufAttachment attachment)
    {
        int ret;

        if (Priv == null)
            throw new DmaBufException(Errno.EINVAL, "hyper_dmabuf_ops_attach");

        ret = HyperDmabufImp.SyncRequestAndWait(HyperDmabufImp.SdomainId(Priv.HyperDmabufId), HyperDmabufImp.HyperDmabufOpsAttach);

        if (ret < 0)
            Printk("hyper_dmabuf::{0} Error:send dmabuf sync request failed", "hyper_dmabuf_ops_attach");

        /* Ignoring ret for now */
    }

    protected override ScatterGatherTable MapDmaBuf(DmaBufAttachment attachment, DmaDataDirection direction)
    {
        int ret;

        if (Priv == null)
            throw new DmaBufException(Errno.EINVAL, "hyper_dmabuf_ops_map");

        var st = new ScatterGatherTable(new[] { new ScatterGatherEntry(0x400000, attachment.Buffer.Size) });

        ret = HyperDmabufImp.SyncRequestAndWait(HyperDmabufImp.SdomainId(Priv.HyperDmabufId), HyperDmabufImp.HyperDmabufOpsMap);

        if (ret < 0)
            Printk("hyper_dmabuf::{0} Error:send dmabuf sync request failed", "hyper_dmabuf_ops_map");

        return st;
    }

    protected override void UnmapDmaBuf(DmaBufAttachment attachment, ScatterGatherTable table)
    {
        int ret;

        if (Priv == null)
            return;

        ret = HyperDmabufImp.SyncRequestAndWait(HyperDmabufImp.SdomainId(Priv.HyperDmabufId), HyperDmabufImp.HyperDmabufOpsUnmap);

        if (ret < 0)
            Printk("hyper_dmabuf::{0} Error:send dmabuf sync request failed", "hyper_dmabuf_ops_unmap");
    }

    protected override void Release(DmaBuffer buffer)
    {
        int ret;

        if (Priv == null)
            return;

        ret = HyperDmabufImp.SyncRequestAndWait(HyperDmabufImp.SdomainId(Priv.HyperDmabufId), HyperDmabufImp.HyperDmabufOpsRelease);

        if (ret < 0)
            Printk("hyper_dmabuf::{0} Error:send dmabuf sync request failed", "hyper_dmabuf_ops_release");
    }

    protected override void BeginCpuAccess(DmaBuffer buffer, long start, long length, DmaDataDirection direction)
    {
        int ret;

        if (Priv == null)
            throw new DmaBufException(Errno.EINVAL, "hyper_dmabuf_ops_begin_cpu_access");

        ret = HyperDmabufImp.SyncRequestAndWait(HyperDmabufImp.SdomainId(Priv.HyperDmabufId), HyperDmabufImp.HyperDmabufOpsBeginCpuAccess);
        if (ret < 0)
        {
            Printk("hyper_dmabuf::{0} Error:send dmabuf sync request failed", "hyper_dmabuf_ops_begin_cpu_access");
            throw new DmaBufException(-ret, "hyper_dmabuf_ops_begin_cpu_access");
        }
    }

    protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber)
    {
        int ret;

        if (Priv == null)
            return 0;

        ret = HyperDmabufImp.SyncRequestAndWait(HyperDmabufImp.SdomainId(Priv.HyperDmabufId), HyperDmabufImp.HyperDmabufOpsKmapAtomic); // expect: DMA0008
        if (ret < 0)
            Printk("hyper_dmabuf::{0} Error:send dmabuf sync request failed", "hyper_dmabuf_ops_kmap_atomic");

        return 0; /* for now NULL.. need to return the address of mapped region */
    }

    protected override void KunmapAtomic(DmaBuffer buffer, long pageNumber, nint address)
    {
        int ret;

        if (Priv == null)
            return;

        ret = HyperDmabufImp.SyncRequestAndWait(HyperDmabufImp.SdomainId(Priv.HyperDmabufId), HyperDmabufImp.HyperDmabufOpsKunmapAtomic); // expect: DMA0008
        if (ret < 0)
            Printk("hyper_dmabuf::{0} Error:send dmabuf sync request failed", "hyper_dmabuf_ops_kunmap_atomic");
    }

    protected override nint Kmap(DmaBuffer buffer, long pageNumber)
    {
        int ret;

        if (Priv == null)
            return 0;

        ret = HyperDmabufImp.SyncRequestAndWait(HyperDmabufImp.SdomainId(Priv.HyperDmabufId), HyperDmabufImp.HyperDmabufOpsKmap);
        if (ret < 0)
            Printk("hyper_dmabuf::{0} Error:send dmabuf sync request failed", "hyper_dmabuf_ops_kmap");

        return 0; /* for now NULL.. need to return the address of mapped region */
    }

    protected override void Kunmap(DmaBuffer buffer, long pageNumber, nint address)
    {
        int ret;

        if (Priv == null)
            return;

        ret = HyperDmabufImp.SyncRequestAndWait(HyperDmabufImp.SdomainId(Priv.HyperDmabufId), HyperDmabufImp.HyperDmabufOpsKunmap);
        if (ret < 0)
            Printk("hyper_dmabuf::{0} Error:send dmabuf sync request failed", "hyper_dmabuf_ops_kunmap");
    }
}
