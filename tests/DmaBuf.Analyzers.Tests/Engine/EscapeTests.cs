// Handing a buffer, scope or table to logging, formatting or a helper that only logs it keeps it this body's, so its
// leak is still reported; a helper that stores, hands on or captures it, a virtual call or a collection takes it
// (silent).
using System.Threading.Tasks;

namespace DmaBuf.Analyzers.Tests.Engine;

// Escapes that are not escapes: handing a buffer, page, scope or table to code that cannot keep it (logging and
// formatting of the base class library, listed in docs/rules/configuration.md; a method of the compilation whose body
// only reads, formats or logs it) leaves it this body's: what it leaves begun, mapped or not put is still reported.
// Still escapes (deliberately silent): a method of the compilation that stores, returns or captures its parameter or
// hands it on to one that may; a virtual method; a method of a library not on the list.
public class EscapeTests
{
    private static Task Verify(string members) => AnalyzerVerifier<Rules.DmaBufFlowAnalyzer>.VerifyAsync(FlowTestCode.Class(members));

    [Fact]
    public Task LoggingAndFormattingKeepNothing() => Verify(@"
    void Console_(int fd)
    {
        var buf = DmaBuffer.Get(fd);
        Console.WriteLine(buf);
        System.Diagnostics.Debug.WriteLine($""got {buf}"");
        Console.WriteLine(string.Format(""{0}"", buf));
        Console.WriteLine(buf.ToString());
    {|DMA0010:}|}

    void Scope(DmaBuffer buf)
    {
        var scope = buf.CpuAccess(0, 4096, DmaDataDirection.FromDevice);
        Console.WriteLine(""scope {0} on {1}"", scope, buf);
    {|DMA0001:}|}

    void Table(DmaBuffer buf, DmaBufAttachment att)
    {
        var table = buf.MapAttachment(att, DmaDataDirection.ToDevice);
        Console.WriteLine(table);
    {|DMA0009:}|}");

    [Fact]
    public Task HelperThatOnlyLogsKeepsNothing() => Verify(@"
    static void Trace(string what, params object?[] args) => Console.Error.WriteLine(what, args);

    static void Describe(DmaBuffer b) => Trace(""buffer {0} of {1} bytes"", b, b.Size);

    void M(int fd)
    {
        var buf = DmaBuffer.Get(fd);
        Describe(buf);
        Trace(""{0}"", buf);
    {|DMA0010:}|}");

    [Fact]
    public Task Valid_HelperThatStoresOrHandsOn() => Verify(@"
    private readonly List<DmaBuffer> _kept = new();

    void Store(DmaBuffer b) => _kept.Add(b);

    void HandOn(DmaBuffer b) => Store(b);

    void Alias(DmaBuffer b)
    {
        var copy = b;
        _kept.Add(copy);
    }

    void Captured(DmaBuffer b) => _ = new Action(() => b.Put());

    void M(int a, int b, int c, int d)
    {
        var one = DmaBuffer.Get(a);
        Store(one);
        var two = DmaBuffer.Get(b);
        HandOn(two);
        var three = DmaBuffer.Get(c);
        Alias(three);
        var four = DmaBuffer.Get(d);
        Captured(four);
    }");

    [Fact]
    public Task Valid_VirtualOrUnknownMethodMayKeep() => Verify(@"
    abstract class Sink
    {
        public abstract void Take(DmaBuffer b);
    }

    void M(int fd, Sink sink, Dictionary<int, DmaBuffer> cache)
    {
        var buf = DmaBuffer.Get(fd);
        sink.Take(buf);
        var other = DmaBuffer.Get(fd + 1);
        cache[fd] = other;
    }");
}
