// Tests of "Detach from the buffer it was attached to" (DMA0011): the Detach's receiver becomes the attachment's
// buffer; none after that buffer's Put, out of its scope, or where the attachment is detached elsewhere.
using System.Threading.Tasks;
using Verify = DmaBuf.CodeFixes.Tests.CodeFixVerifier<DmaBuf.Analyzers.Rules.DmaBufFlowAnalyzer, DmaBuf.CodeFixes.ForeignDetachFixer>;

namespace DmaBuf.CodeFixes.Tests;

public class ForeignDetachFixerTests
{
    private const string Key = ForeignDetachFixer.DetachFromOwnerKey;

    [Fact]
    public Task DetachGoesToTheBufferTheAttachmentWasMadeOn() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBufExporter exporter, Device dev)
    {
        var b1 = DmaBuffer.Export(exporter, 4096);
        var b2 = DmaBuffer.Export(exporter, 8192);
        var a = b1.Attach(dev);
        {|DMA0011:b2.Detach(a)|};
        b2.Put();
        b1.Put();
    }"), Verify.Class(@"
    void M(DmaBufExporter exporter, Device dev)
    {
        var b1 = DmaBuffer.Export(exporter, 4096);
        var b2 = DmaBuffer.Export(exporter, 8192);
        var a = b1.Attach(dev);
        b1.Detach(a);
        b2.Put();
        b1.Put();
    }"), Key);

    [Fact]
    public Task CommentsAroundTheReceiverStay() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBufExporter exporter, Device dev, bool first)
    {
        var b1 = DmaBuffer.Export(exporter, 4096);
        var b2 = DmaBuffer.Export(exporter, 4096);
        var a = b1.Attach(dev);
        if (first)
            /* the other one */ {|DMA0011:b2.Detach(a)|}; // done
        b1.Put();
        b2.Put();
    }"), Verify.Class(@"
    void M(DmaBufExporter exporter, Device dev, bool first)
    {
        var b1 = DmaBuffer.Export(exporter, 4096);
        var b2 = DmaBuffer.Export(exporter, 4096);
        var a = b1.Attach(dev);
        if (first)
            /* the other one */ b1.Detach(a); // done
        b1.Put();
        b2.Put();
    }"), Key);

    [Fact]
    public Task FixAllRepairsEveryDetach() => Verify.VerifyAsync(Verify.Class(@"
    void M(DmaBufExporter exporter, Device dev, Device other)
    {
        var b1 = DmaBuffer.Export(exporter, 4096);
        var b2 = DmaBuffer.Export(exporter, 4096);
        var a = b1.Attach(dev);
        var c = b2.Attach(other);
        {|DMA0011:b2.Detach(a)|};
        {|DMA0011:b1.Detach(c)|};
        b1.Put();
        b2.Put();
    }"), Verify.Class(@"
    void M(DmaBufExporter exporter, Device dev, Device other)
    {
        var b1 = DmaBuffer.Export(exporter, 4096);
        var b2 = DmaBuffer.Export(exporter, 4096);
        var a = b1.Attach(dev);
        var c = b2.Attach(other);
        b1.Detach(a);
        b2.Detach(c);
        b1.Put();
        b2.Put();
    }"), Key, iterations: 2);

    // A use after the last put has no fix: where the put belongs depends on what the code means.
    [Fact]
    public Task NoFixForAUseAfterThePut() => Verify.VerifyNoFixAsync(Verify.Class(@"
    long M(DmaBufExporter exporter)
    {
        var b = DmaBuffer.Export(exporter, 4096);
        b.Put();
        return {|DMA0011:b|}.Size;
    }"), Key);

    // The owner is declared in a nested block the Detach cannot see.
    [Fact]
    public Task NoFixWhenTheOwnerIsOutOfScope() => Verify.VerifyNoFixAsync(Verify.Class(@"
    void M(DmaBufExporter exporter, Device dev)
    {
        var b2 = DmaBuffer.Export(exporter, 4096);
        DmaBufAttachment a;
        {
            var b1 = DmaBuffer.Export(exporter, 4096);
            a = b1.Attach(dev);
            b1.Put();
        }
        {|DMA0011:b2.Detach(a)|};
        b2.Put();
    }"), Key);

    // b1.Detach(a) is already there: the slip is more likely the attachment (c was meant), so no fix is guessed.
    [Fact]
    public Task NoFixWhenTheAttachmentIsDetachedElsewhere() => Verify.VerifyNoFixAsync(Verify.Class(@"
    void M(DmaBufExporter exporter, Device dev)
    {
        var b1 = DmaBuffer.Export(exporter, 4096);
        var b2 = DmaBuffer.Export(exporter, 4096);
        var a = b1.Attach(dev);
        var c = b2.Attach(dev);
        {|DMA0011:b2.Detach(a)|};
        b1.Detach(a);
        b1.Put();
        b2.Put();
    }"), Key);
}
