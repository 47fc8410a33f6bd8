// An async method that hands the copy of a page to the thread pool and awaits it with ConfigureAwait(false).
// Bug: the page was mapped with KmapAtomic by a using declaration, which holds it to the end of the block, so the
// await happens with the atomic mapping held (DMA0005 at the await).
using System.Threading.Tasks;
using DmaBuf;

namespace Idiomatic.Round2;

internal static class TaskRunConfigureAwaitUnderAtomic
{
    public static async Task<int> FirstByteLaterAsync(DmaBuffer buf)
    {
        using var access = buf.CpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice);
        using var page = buf.KmapAtomic(0);
        byte first = page.Span[0];
        int doubled = await Task.Run(() => first * 2).ConfigureAwait(false); // expect: DMA0005
        return doubled;
    }
}
