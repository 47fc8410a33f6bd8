// Tests of "Unmap 't' in a finally block" (DMA0009.UnmapInFinally): a Detach in a finally after the try that maps
// the table; no fix when the block unmaps the table itself on some path.
using System.Threading.Tasks;
using Verify = DmaBuf.CodeFixes.Tests.CodeFixVerifier<DmaBuf.Analyzers.Rules.DmaBufFlowAnalyzer, DmaBuf.CodeFixes.UnmapInFinallyFixer>;

namespace DmaBuf.CodeFixes.Tests;

public class UnmapInFinallyFixerTests
{
    private const string Key = UnmapInFinallyFixer.UnmapInFinallyKey;

    [Fact]
    public Task TableIsUnmappedInAFinallyInsideTheTry() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBuffer buf, Device camera, byte[] frame)
    {
        var att = buf.Attach(camera);
        try
        {
            var table = buf.MapAttachment(att, DmaDataDirection.FromDevice);
            // one frame
            camera.DmaRead(table, 0, frame);
        }
        finally
        {
            {|DMA0009:buf.Detach(att)|};
        }
    }"), Verify.Class(@"
    void M(DmaBuffer buf, Device camera, byte[] frame)
    {
        var att = buf.Attach(camera);
        try
        {
            var table = buf.MapAttachment(att, DmaDataDirection.FromDevice);
            // one frame
            try
            {
                camera.DmaRead(table, 0, frame);
            }
            finally
            {
                buf.UnmapAttachment(att, table);
            }
        }
        finally
        {
            buf.Detach(att);
        }
    }"), Key);

    [Fact]
    public Task NoFixWhenTheBlockUnmapsOnSomePath() => Verify.VerifyNoFixAsync(Verify.Class(@"
    void M(DmaBuffer buf, Device camera, byte[] frame, bool quick)
    {
        var att = buf.Attach(camera);
        try
        {
            var table = buf.MapAttachment(att, DmaDataDirection.FromDevice);
            if (quick)
                buf.UnmapAttachment(att, table);
            camera.DmaRead(table, 0, frame);
        }
        finally
        {
            {|DMA0009:buf.Detach(att)|};
        }
    }"), Key);
}
