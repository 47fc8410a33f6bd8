// Kernel: drivers/media/platform/msm/vidc/msm_smem.c, msm_dma_get_device_address(), LineageOS/android_kernel_qcom_sm8250@60d8e74cc7f3 (msm-4.19)
// The Qualcomm video driver maps a dma-buf for the video core's IOMMU context bank: with an IOMMU, look up the
// context bank (-EIO), check the buffer is large enough (-EINVAL, after flagging a fatal hardware error), attach the
// context bank's device, set the vendor map attributes (DMA_ATTR_DELAYED_UNMAP, DMA_ATTR_SKIP_CPU_SYNC: no runtime
// counterpart), map the attachment DMA_BIDIRECTIONAL and read the IOVA and length of the first segment, then record
// the device, table, attachment and buffer in *mapping_info, which msm_dma_put_device_address() (ported with it)
// unmaps and detaches. A table with no segment (`sgl is NULL`) unwinds through mem_map_sg_failed (unmap) into
// mem_map_table_failed (detach); the three earlier failures share the bare return. The dma-buf reference is the
// caller's (msm_smem_map_dma_buf() took it). Correct: silent.
using System;
using DmaBuf;

namespace Kernel.Round3.MsmVidc.DeviceAddress;

internal sealed class ContextBankInfo
{
    public ContextBankInfo(Device dev, bool isSecure)
    {
        Dev = dev;
        IsSecure = isSecure;
    }

    public Device Dev { get; }

    public bool IsSecure { get; }
}

internal sealed class MsmVidcPlatformResources
{
    public bool IommuPresent;
    public ContextBankInfo? SecureCb;
    public ContextBankInfo? NonSecureCb;
    public bool FatalHwError;
}

internal sealed class DmaMappingInfo
{
    public Device? Dev;
    public ScatterGatherTable? Table;
    public DmaBufAttachment? Attach;
    public DmaBuffer? Buf;
    public ContextBankInfo? CbInfo;
}

internal static class MsmSmem
{
    private const ulong SMEM_SECURE = 1;

    private static bool IsIommuPresent(MsmVidcPlatformResources res) => res.IommuPresent;

    // msm_smem_get_context_bank(), reduced to the secure / non-secure choice.
    private static ContextBankInfo? GetContextBank(ulong sessionType, bool isSecure, MsmVidcPlatformResources res, int bufferType) =>
        isSecure ? res.SecureCb : res.NonSecureCb;

    private static void HandleFatalHwError(MsmVidcPlatformResources res, bool enableFatal) => res.FatalHwError = enableFatal;

    // iova and buffer_size are in/out pointers (never NULL in C#: the kernel's NULL checks on them are dropped).
    public static int GetDeviceAddress(DmaBuffer? dbuf, ulong align, ref ulong iova, ref ulong bufferSize, ulong flags,
        int bufferType, ulong sessionType, MsmVidcPlatformResources res, DmaMappingInfo? mappingInfo)
    {
        int rc = 0;
        DmaBufAttachment attach;
        ScatterGatherTable table;
        ContextBankInfo? cb = null;

        if (dbuf == null || mappingInfo == null)
        {
            Log.Error("Invalid params: {0}, {1}", dbuf, mappingInfo);
            return E.EINVAL;
        }

        if (IsIommuPresent(res))
        {
            cb = GetContextBank(sessionType, (flags & SMEM_SECURE) != 0, res, bufferType);
            if (cb == null)
            {
                Log.Error("{0}: Failed to get context bank device", nameof(GetDeviceAddress));
                rc = E.EIO;
                goto mem_map_failed;
            }

            /* Check if the dmabuf size matches expected size */
            if ((ulong)dbuf.Size < bufferSize)
            {
                rc = E.EINVAL;
                Log.Error("Size mismatch: Dmabuf size: {0} Expected Size: {1}", dbuf.Size, bufferSize);
                HandleFatalHwError(res, true);
                goto mem_buf_size_mismatch;
            }

            /* Prepare a dma buf for dma on the given device */
            try
            {
                attach = dbuf.Attach(cb.Dev);
            }
            catch (DmaBufException e)
            {
                rc = -e.Errno;
                if (rc == 0)
                    rc = E.ENOMEM; // PTR_ERR(attach) ?: -ENOMEM
                Log.Error("Failed to attach dmabuf");
                goto mem_buf_attach_failed;
            }

            /*
             * Get the scatterlist for the given attachment
             * Mapping of sg is taken care by map attachment
             */
            // attach->dma_map_attrs = DMA_ATTR_DELAYED_UNMAP | DMA_ATTR_SKIP_CPU_SYNC (| UPSTREAM_HINT with a sys cache)

            try
            {
                table = dbuf.MapAttachment(attach, DmaDataDirection.Bidirectional);
            }
            catch (DmaBufException e)
            {
                rc = -e.Errno;
                if (rc == 0)
                    rc = E.ENOMEM;
                Log.Error("Failed to map table");
                goto mem_map_table_failed;
            }

            if (table.Entries.Count > 0)
            {
                iova = table.Entries[0].DmaAddress;
                bufferSize = (ulong)table.Entries[0].Length;
            }
            else
            {
                Log.Error("sgl is NULL");
                rc = E.ENOMEM;
                goto mem_map_sg_failed;
            }

            mappingInfo.Dev = cb.Dev;
            mappingInfo.Table = table;
            mappingInfo.Attach = attach;
            mappingInfo.Buf = dbuf;
            mappingInfo.CbInfo = cb;
        }
        else
        {
            Log.Debug("iommu not present, use phys mem addr");
        }

        return 0;

    mem_map_sg_failed:
        dbuf.UnmapAttachment(attach, table);
    mem_map_table_failed:
        dbuf.Detach(attach);
    mem_buf_size_mismatch:
    mem_buf_attach_failed:
    mem_map_failed:
        return rc;
    }

    // msm_dma_put_device_address()
    public static int PutDeviceAddress(ulong flags, DmaMappingInfo? mappingInfo, int bufferType)
    {
        int rc = 0;

        if (mappingInfo == null)
        {
            Log.Error("Invalid mapping_info");
            return E.EINVAL;
        }

        if (mappingInfo.Dev == null || mappingInfo.Table == null || mappingInfo.Buf == null || mappingInfo.Attach == null
            || mappingInfo.CbInfo == null)
        {
            Log.Error("Invalid params");
            return E.EINVAL;
        }

        mappingInfo.Buf.UnmapAttachment(mappingInfo.Attach, mappingInfo.Table);
        mappingInfo.Buf.Detach(mappingInfo.Attach);

        mappingInfo.Dev = null;
        mappingInfo.Table = null;
        mappingInfo.Attach = null;
        mappingInfo.Buf = null;
        mappingInfo.CbInfo = null;

        return rc;
    }
}
