// Tests of "Vunmap before this return" (DMA0012.VunmapBeforeExit): an early return between the vmap and its vunmap
// gets the vunmap, before the end of access at that way out; a vmap handed on gets none.
using System.Threading.Tasks;
using Verify = DmaBuf.CodeFixes.Tests.CodeFixVerifier<DmaBuf.Analyzers.Rules.DmaBufFlowAnalyzer, DmaBuf.CodeFixes.UnmatchedVmapAtExitFixer>;

namespace DmaBuf.CodeFixes.Tests;

public class UnmatchedVmapAtExitFixerTests
{
    private const string Key = UnmatchedVmapAtExitFixer.VunmapBeforeExitKey;

    [Fact]
    public Task EarlyReturnVunmapsBeforeTheEnd() => Verify.VerifyAsync(Verify.Class(@"
    int M(DmaBuffer buf)
    {
        var map = buf.Vmap();
        buf.BeginCpuAccess(DmaDataDirection.FromDevice);
        if (map.GetSpan(0, 1)[0] == 0)
        {
            buf.EndCpuAccess(DmaDataDirection.FromDevice);
            {|DMA0012:return -1;|} // empty
        }

        int first = map.GetSpan(0, 1)[0];
        buf.EndCpuAccess(DmaDataDirection.FromDevice);
        buf.Vunmap(map);
        return first;
    }"), Verify.Class(@"
    int M(DmaBuffer buf)
    {
        var map = buf.Vmap();
        buf.BeginCpuAccess(DmaDataDirection.FromDevice);
        if (map.GetSpan(0, 1)[0] == 0)
        {
            buf.EndCpuAccess(DmaDataDirection.FromDevice);
            buf.Vunmap(map);
            return -1; // empty
        }

        int first = map.GetSpan(0, 1)[0];
        buf.EndCpuAccess(DmaDataDirection.FromDevice);
        buf.Vunmap(map);
        return first;
    }"), Key);

    // The begin that fails after the vmap, as in a kernel driver's prepare step: the error return gives the vmap back.
    [Fact]
    public Task FailedBeginVunmapsOnTheErrorReturn() => Verify.VerifyAsync(Verify.Class(@"
    int M(DmaBuffer buf, bool fail)
    {
        var map = buf.Vmap();
        if (fail)
            {|DMA0012:return -22;|}
        buf.BeginCpuAccess(DmaDataDirection.ToDevice);
        map.GetSpan(0, 1)[0] = 1;
        buf.EndCpuAccess(DmaDataDirection.ToDevice);
        buf.Vunmap(map);
        return 0;
    }"), Verify.Class(@"
    int M(DmaBuffer buf, bool fail)
    {
        var map = buf.Vmap();
        if (fail)
        {
            buf.Vunmap(map);
            return -22;
        }

        buf.BeginCpuAccess(DmaDataDirection.ToDevice);
        map.GetSpan(0, 1)[0] = 1;
        buf.EndCpuAccess(DmaDataDirection.ToDevice);
        buf.Vunmap(map);
        return 0;
    }"), Key);
}
