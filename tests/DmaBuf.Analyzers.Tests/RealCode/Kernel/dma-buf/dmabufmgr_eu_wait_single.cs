// Kernel: drivers/base/dma-buf-mgr-eu.c, dmabufmgr_eu_wait_single(), RFC "dma-buf-mgr: Try 2" (Maarten Lankhorst, July 2012, on v3.5)
// The CPU fallback of the dma-buf reservation manager: wait until the 32-bit sequence number a device writes into a
// "sync buffer" (a dma-buf kept in the validate entry, val->sync_buf) reaches the value expected. It begins CPU
// access from the start of the page holding the word, kmaps that page (dma_buf_kmap, non-atomic, so the busy wait may
// sleep in schedule_hrtimeout), polls, unmaps, ends the access with the same arguments as the begin, and on success
// drops the entry's reference to the sync buffer and clears the field. dmabufmgr_eu_wait_completed_cpu() calls it for
// every entry of the list.
// Note the begun length is `start + PAGE_SIZE` (the RFC passes an end where a length is expected): odd, but the end
// passes the same expression, and the page mapped (sync_ofs >> PAGE_SHIFT) lies in the span for any start, so the
// rules have nothing to say. The buffer is a field of the entry: the loop writes other fields of the same entry
// (val->retval) between the begin and the end. Correct: silent.
using System.Collections.Generic;
using DmaBuf;

namespace Kernel.DmaBuf.DmabufmgrEu;

internal sealed class DmabufmgrValidate
{
    public DmaBuffer? SyncBuf;
    public uint SyncOfs;
    public uint SyncVal;
    public uint Retval;
    public bool Waited;
}

/// <summary>The scheduler calls the busy wait uses.</summary>
internal static class Sched
{
    public static long Jiffies => System.Environment.TickCount64;

    public static void SetCurrentState(bool interruptible)
    {
    }

    public static void SetCurrentStateRunning()
    {
    }

    [MightSleep]
    public static void ScheduleHrtimeout(long nanoseconds) => System.Threading.Thread.Sleep((int)(nanoseconds / 1_000_000));

    public static void CpuRelax() => System.Threading.Thread.SpinWait(1);

    public static bool SignalPending() => false;
}

internal static class DmabufmgrEu
{
    private const long NsecPerMsec = 1_000_000;
    private const int PageShift = 12;
    private const uint PageMask = ~(uint)(DmaBuffer.PageSize - 1);
    private const int ERESTARTSYS = -512;

    private static int WaitSingle(DmabufmgrValidate val, bool intr, bool lazy, long timeout)
    {
        DmaBufPage map;
        int seq;
        uint ofs;
        long sleepTime = NsecPerMsec / 1000;
        long start;
        int ret = 0;

        if (val.SyncBuf == null)
            return 0;

        start = val.SyncOfs & PageMask;
        ofs = val.SyncOfs & ~PageMask;

        try
        {
            val.SyncBuf.BeginCpuAccess(start, start + DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        }
        catch (DmaBufException e)
        {
            ret = -e.Errno;
        }

        if (ret != 0)
            return ret;

        map = val.SyncBuf.Kmap(val.SyncOfs >> PageShift);
        seq = (int)(ofs / 4);

        while (true)
        {
            val.Retval = System.BitConverter.ToUInt32(map.Span.Slice(seq * 4, 4));
            if (val.Retval - val.SyncVal < 0x80000000U)
                break;

            if (Sched.Jiffies >= timeout)
            {
                ret = E.EBUSY;
                break;
            }

            Sched.SetCurrentState(intr);

            if (lazy)
            {
                Sched.ScheduleHrtimeout(sleepTime);
                if (sleepTime < NsecPerMsec)
                    sleepTime *= 2;
            }
            else
                Sched.CpuRelax();

            if (intr && Sched.SignalPending())
            {
                ret = ERESTARTSYS;
                break;
            }
        }

        Sched.SetCurrentStateRunning();

        val.SyncBuf.Kunmap(val.SyncOfs >> PageShift, map);
        val.SyncBuf.EndCpuAccess(start, start + DmaBuffer.PageSize, DmaDataDirection.FromDevice);

        val.Waited = ret == 0;
        if (ret == 0)
        {
            val.SyncBuf.Put();
            val.SyncBuf = null;
        }

        return ret;
    }

    public static int WaitCompletedCpu(List<DmabufmgrValidate> list, bool intr, bool lazy)
    {
        long timeout = Sched.Jiffies + 4 * 1000;
        int ret;
        int i;

        for (i = 0; i < list.Count; i++)
        {
            DmabufmgrValidate entry = list[i];

            ret = WaitSingle(entry, intr, lazy, timeout);
            if (ret != 0 && ret != ERESTARTSYS)
                Log.Error("waiting returns {0} {1:x8}(exp {2:x8})", ret, entry.Retval, entry.SyncVal);
            if (ret != 0)
                goto err;
        }

        return 0;

    err:
        // list_for_each_entry_continue(entry, list, head)
        for (i++; i < list.Count; i++)
        {
            list[i].Waited = false;
            list[i].Retval = uint.MaxValue;
        }

        return ret;
    }
}
