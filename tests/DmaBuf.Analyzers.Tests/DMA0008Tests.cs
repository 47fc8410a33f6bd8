// DMA0008: an exporter's KmapAtomic or KunmapAtomic override that may block, itself or through helpers, bases and
// interfaces, and its message; the other callbacks, lock-free code, look-alikes and methods that only share the name
// stay silent.
using System.Threading.Tasks;
using DmaBuf.Analyzers.Rules;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;
using Verify = DmaBuf.Analyzers.Tests.AnalyzerVerifier<DmaBuf.Analyzers.Rules.ExporterAtomicCallbackAnalyzer>;

namespace DmaBuf.Analyzers.Tests;

/// <summary>DMA0008: an exporter's KmapAtomic/KunmapAtomic override that may block.</summary>
/// <remarks>
/// Deliberately silent, and why:
/// <list type="bullet">
/// <item>Blocking in the other callbacks (Kmap, BeginCpuAccess, Release, MapDmaBuf): the seed lets them block.</item>
/// <item>A lambda created but not invoked in the callback, and a local function that is never called: they do not run there.</item>
/// <item>Non-blocking primitives (Interlocked, Volatile, Thread.SpinWait, Monitor.TryEnter without a timeout, SemaphoreSlim.Wait(0)): they spin or poll.</item>
/// <item>A call through an interface with no implementation in the compilation: precision first.</item>
/// <item>Writing to an in-memory writer the callback creates, and a helper called with <c>async: true</c> into <c>if (async) … else stream.Write(…)</c>: those ways cannot block.</item>
/// <item>A method called KmapAtomic that does not override the runtime's callback (another base class, a look-alike
/// DmaBufExporter in another namespace or in a compilation without DmaBuf.Runtime, a method that hides it with <c>new</c>).</item>
/// <item>Generated code, and code that does not compile (nothing is reported that the analysis cannot see).</item>
/// </list>
/// </remarks>
public sealed class DMA0008Tests
{
    private const string Usings = """
        using System;
        using System.IO;
        using System.Threading;
        using System.Threading.Tasks;
        using DmaBuf;

        """;

    private const string OtherOps = """

            protected override ScatterGatherTable MapDmaBuf(DmaBufAttachment attachment, DmaDataDirection direction) => throw new NotSupportedException();
            protected override void UnmapDmaBuf(DmaBufAttachment attachment, ScatterGatherTable table) { }
            protected override void Release(DmaBuffer buffer) { }
            protected override nint Kmap(DmaBuffer buffer, long pageNumber) => 0;
        """;

    // ---- Reported ----

    [Fact]
    public Task Lock_InKmapAtomic() => Verify.VerifyAsync(Usings + """
        sealed class LockingExporter : DmaBufExporter
        {
            private readonly object _gate = new();
            private readonly nint[] _pages = new nint[4];

            protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber)
            {
                {|DMA0008:lock|} (_gate)
                {
                    return _pages[pageNumber];
                }
            }
        """ + OtherOps + "}\n");

    [Fact]
    public Task Sleep_InKunmapAtomic() => Verify.VerifyAsync(Usings + """
        sealed class SleepyExporter : DmaBufExporter
        {
            protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber) => 0;

            protected override void KunmapAtomic(DmaBuffer buffer, long pageNumber, nint address)
            {
                {|DMA0008:Thread.Sleep(1)|};
            }
        """ + OtherOps + "}\n");

    [Fact]
    public Task RuntimeMightSleep_InKmapAtomic() => Verify.VerifyAsync(Usings + """
        sealed class CheckingExporter : DmaBufExporter
        {
            protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber)
            {
                {|DMA0008:DmaBufValidation.MightSleep()|};
                return 0;
            }
        """ + OtherOps + "}\n");

    [Fact]
    public Task HelperThatBlocks_ThroughTwoCalls() => Verify.VerifyAsync(Usings + """
        sealed class HelperExporter : DmaBufExporter
        {
            private readonly SemaphoreSlim _pool = new(1);

            protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber) => {|DMA0008:Reserve(pageNumber)|};

            private nint Reserve(long pageNumber) => Acquire() + (nint)pageNumber;

            private nint Acquire()
            {
                _pool.Wait();
                return 0;
            }
        """ + OtherOps + "}\n");

    [Fact]
    public Task MightSleepMethod_OfTheExporter() => Verify.VerifyAsync(Usings + """
        sealed class SwappingExporter : DmaBufExporter
        {
            [MightSleep]
            private nint SwapIn(long pageNumber) => 0;

            protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber) => {|DMA0008:SwapIn(pageNumber)|};
        """ + OtherOps + "}\n");

    [Fact]
    public Task OverrideThroughAnIntermediateBaseClass() => Verify.VerifyAsync(Usings + """
        abstract class PagedExporter : DmaBufExporter
        {
            protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber) => 0;
        """ + OtherOps + """
        }

        sealed class SlowPagedExporter : PagedExporter
        {
            protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber)
            {
                {|DMA0008:Thread.Sleep(0)|};
                return base.KmapAtomic(buffer, pageNumber);
            }

            protected override void KunmapAtomic(DmaBuffer buffer, long pageNumber, nint address) => {|DMA0008:Console.WriteLine(address)|};
        }
        """);

    [Fact]
    public Task TaskResultAndGetResult() => Verify.VerifyAsync(Usings + """
        sealed class AsyncBackedExporter : DmaBufExporter
        {
            private Task<nint> FetchAsync(long pageNumber) => Task.FromResult((nint)pageNumber);

            protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber) => {|DMA0008:FetchAsync(pageNumber).Result|};

            protected override void KunmapAtomic(DmaBuffer buffer, long pageNumber, nint address) =>
                {|DMA0008:Task.Delay(1).GetAwaiter().GetResult()|};
        """ + OtherOps + "}\n");

    [Fact]
    public Task EachBlockingOperationIsReported() => Verify.VerifyAsync(Usings + """
        sealed class NoisyExporter : DmaBufExporter
        {
            private readonly object _gate = new();

            protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber)
            {
                {|DMA0008:Monitor.Enter(_gate)|};
                try
                {
                    {|DMA0008:File.AppendAllText("log.txt", "kmap")|};
                    return 0;
                }
                finally
                {
                    Monitor.Exit(_gate);
                }
            }
        """ + OtherOps + "}\n");

    [Fact]
    public Task NonAtomicRuntimeCalls_FromTheCallback() => Verify.VerifyAsync(Usings + """
        sealed class ReentrantExporter : DmaBufExporter
        {
            protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber)
            {
                {|DMA0008:buffer.BeginCpuAccess(0, DmaBuffer.PageSize, DmaDataDirection.FromDevice)|};
                DmaBufPage page = {|DMA0008:buffer.Kmap(pageNumber)|};
                return page.Address;
            }
        """ + OtherOps + "}\n");

    [Fact]
    public Task InvokedLambdaAndLocalFunction() => Verify.VerifyAsync(Usings + """
        sealed class LambdaExporter : DmaBufExporter
        {
            protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber)
            {
                Func<nint> fetch = () => { Thread.Sleep(1); return 0; };
                return {|DMA0008:fetch()|};
            }

            protected override void KunmapAtomic(DmaBuffer buffer, long pageNumber, nint address)
            {
                {|DMA0008:Flush()|};

                void Flush() => Thread.Sleep(1);
            }
        """ + OtherOps + "}\n");

    [Fact]
    public Task MethodListedInTheOption() => Verify.VerifyAsync(
        Usings + """
        namespace Hw { public static class Mmio { public static nint Map(long page) => 0; } }

        sealed class MmioExporter : DmaBufExporter
        {
            protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber) => {|DMA0008:Hw.Mmio.Map(pageNumber)|};
        """ + OtherOps + "}\n",
        "dotnet_code_quality.DMA0005.additional_blocking_methods = Hw.Mmio.Map\n");

    [Fact]
    public Task AwaitInAnInvokedAsyncLambdaDoesNotCount_ButBlockingBeforeItDoes() => Verify.VerifyAsync(Usings + """
        sealed class WaitingExporter : DmaBufExporter
        {
            private readonly ManualResetEventSlim _ready = new();

            protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber)
            {
                Func<Task> polite = async () => await Task.Yield();
                polite();
                {|DMA0008:_ready.Wait()|};
                return 0;
            }
        """ + OtherOps + "}\n");

    [Fact]
    public async Task Message_NamesTheOverrideAndTheCall_AndPointsAtTheOverride()
    {
        var test = Verify.CreateTest(Usings + """
            sealed class LoggingExporter : DmaBufExporter
            {
                protected override nint {|#1:KmapAtomic|}(DmaBuffer buffer, long pageNumber)
                {
                    {|#0:Log(pageNumber)|};
                    return 0;
                }

                private static void Log(long pageNumber) => Console.WriteLine(pageNumber);
            """ + OtherOps + "}\n");
        test.ExpectedDiagnostics.Add(
            new DiagnosticResult(RuleDescriptors.DMA0008)
                .WithLocation(0)
                .WithLocation(1)
                .WithArguments("LoggingExporter.KmapAtomic", "'LoggingExporter.Log(long)'", " (→ Console.WriteLine at line 14)"));
        await test.RunAsync();
    }

    [Fact]
    public async Task ThroughAnInterfaceOfTheCompilation_TheMessageNamesTheChain()
    {
        var test = Verify.CreateTest(Usings + """
            internal interface IPageTable { nint Lookup(long pageNumber); }

            internal sealed class LockedTable : IPageTable
            {
                private readonly object _gate = new();
                public nint Lookup(long pageNumber) { lock (_gate) { return 0; } }
            }

            sealed class TableExporter : DmaBufExporter
            {
                private readonly IPageTable _table = new LockedTable();

                protected override nint {|#1:KmapAtomic|}(DmaBuffer buffer, long pageNumber) => {|#0:_table.Lookup(pageNumber)|};
            """ + OtherOps + "}\n");
        test.ExpectedDiagnostics.Add(
            new DiagnosticResult(RuleDescriptors.DMA0008)
                .WithLocation(0)
                .WithLocation(1)
                .WithArguments("TableExporter.KmapAtomic", "'IPageTable.Lookup(long)'", " (→ LockedTable.Lookup → lock at line 11)"));
        await test.RunAsync();
    }

    // ---- Silent ----

    [Fact]
    public Task InMemoryWriterAndAsyncTrue() => Verify.VerifyAsync(Usings + """
        sealed class TracingExporter : DmaBufExporter
        {
            private readonly StringWriter _trace = new StringWriter();

            private static void Trace(TextWriter writer, long pageNumber) => writer.WriteLine(pageNumber);

            private static async Task Send(bool async, Stream stream)
            {
                if (async)
                {
                    await stream.FlushAsync();
                }
                else
                {
                    stream.Flush();
                }
            }

            protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber)
            {
                Trace(_trace, pageNumber);
                Trace(new StringWriter(), pageNumber);
                _ = Send(async: true, Stream.Null);
                return 0;
            }
        """ + OtherOps + "}\n");

    [Fact]
    public Task LockFreeCallbacks() => Verify.VerifyAsync(Usings + """
        sealed class GoodExporter : DmaBufExporter
        {
            private readonly nint[] _pages = new nint[4];
            private readonly SemaphoreSlim _sem = new(1);
            private readonly object _gate = new();
            private int _mapped;

            protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber)
            {
                Interlocked.Increment(ref _mapped);
                Thread.SpinWait(1);
                if (Monitor.TryEnter(_gate))
                {
                    Monitor.Exit(_gate);
                }

                _sem.Wait(0);
                return Volatile.Read(ref _pages[pageNumber]);
            }

            protected override void KunmapAtomic(DmaBuffer buffer, long pageNumber, nint address) => Interlocked.Decrement(ref _mapped);
        """ + OtherOps + "}\n");

    [Fact]
    public Task BlockingInTheCallbacksThatMayBlock() => Verify.VerifyAsync(Usings + """
        sealed class PreparingExporter : DmaBufExporter
        {
            private readonly object _gate = new();

            protected override void BeginCpuAccess(DmaBuffer buffer, long start, long length, DmaDataDirection direction)
            {
                lock (_gate) { Thread.Sleep(1); }
            }

            protected override nint Kmap(DmaBuffer buffer, long pageNumber)
            {
                Thread.Sleep(1);
                return 0;
            }

            protected override void Release(DmaBuffer buffer) => File.Delete("swap");

            protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber) => 0;
            protected override ScatterGatherTable MapDmaBuf(DmaBufAttachment attachment, DmaDataDirection direction) { Thread.Sleep(1); throw new NotSupportedException(); }
            protected override void UnmapDmaBuf(DmaBufAttachment attachment, ScatterGatherTable table) { }
        }
        """);

    [Fact]
    public Task LambdaCreatedButNotInvoked_AndLocalFunctionNeverCalled() => Verify.VerifyAsync(Usings + """
        sealed class DeferringExporter : DmaBufExporter
        {
            private Action? _pending;

            protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber)
            {
                _pending = () => Thread.Sleep(1);
                ThreadPool.QueueUserWorkItem(_ => Thread.Sleep(1));
                return 0;

                void NeverCalled() => Thread.Sleep(1);
            }
        """ + OtherOps + "}\n");

    [Fact]
    public Task NonBlockingHelpersAndRecursion() => Verify.VerifyAsync(Usings + """
        sealed class ComputingExporter : DmaBufExporter
        {
            private readonly nint _base = 4096;

            protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber) => _base + Offset(pageNumber);

            private static nint Offset(long pageNumber) => pageNumber == 0 ? 0 : DmaBuffer.PageSize + Offset(pageNumber - 1);
        """ + OtherOps + "}\n");

    [Fact]
    public Task CallThroughAnUnknownInterface() => Verify.VerifyAsync(Usings + """
        interface IPageSource { nint Lookup(long pageNumber); }

        sealed class DelegatingExporter : DmaBufExporter
        {
            private readonly IPageSource _source;

            public DelegatingExporter(IPageSource source) => _source = source;

            protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber) => _source.Lookup(pageNumber);
        """ + OtherOps + "}\n");

    [Fact]
    public Task KmapAtomicThatIsNotTheRuntimesCallback() => Verify.VerifyAsync(Usings + """
        abstract class OtherBase
        {
            protected abstract nint KmapAtomic(DmaBuffer buffer, long pageNumber);
        }

        sealed class NotAnExporter : OtherBase
        {
            protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber)
            {
                Thread.Sleep(1);
                return 0;
            }
        }

        class Plain
        {
            public nint KmapAtomic(DmaBuffer buffer, long pageNumber)
            {
                Thread.Sleep(1);
                return 0;
            }
        }
        """);

    [Fact]
    public Task MethodThatHidesTheCallbackWithNew() => Verify.VerifyAsync(Usings + """
        abstract class BaseExporter : DmaBufExporter
        {
            protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber) => 0;
        """ + OtherOps + """
        }

        sealed class HidingExporter : BaseExporter
        {
            public new nint KmapAtomic(DmaBuffer buffer, long pageNumber)
            {
                Thread.Sleep(1);
                return 0;
            }
        }
        """);

    [Fact]
    public Task LookAlikeExporterInAnotherNamespace() => Verify.VerifyAsync("""
        namespace Fake
        {
            using System.Threading;

            public sealed class DmaBuffer { }

            public abstract class DmaBufExporter
            {
                protected abstract nint KmapAtomic(DmaBuffer buffer, long pageNumber);
            }

            sealed class E : DmaBufExporter
            {
                protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber)
                {
                    Thread.Sleep(1);
                    return 0;
                }
            }
        }
        """);

    [Fact]
    public async Task LookAlikeDmaBufNamespace_WithoutTheRuntime()
    {
        var test = new CSharpAnalyzerTest<ExporterAtomicCallbackAnalyzer, DefaultVerifier>
        {
            TestCode = """
                namespace DmaBuf
                {
                    using System.Threading;

                    public sealed class DmaBuffer { }

                    public abstract class DmaBufExporter
                    {
                        protected internal abstract nint KmapAtomic(DmaBuffer buffer, long pageNumber);
                    }

                    sealed class E : DmaBufExporter
                    {
                        protected internal override nint KmapAtomic(DmaBuffer buffer, long pageNumber)
                        {
                            Thread.Sleep(1);
                            return 0;
                        }
                    }
                }
                """,
            ReferenceAssemblies = ReferenceAssemblies.Net.Net80,
        };
        await test.RunAsync();
    }

    [Fact]
    public Task GeneratedCode() => Verify.VerifyAsync("""
        // <auto-generated/>

        """ + Usings + """
        sealed class GeneratedExporter : DmaBufExporter
        {
            protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber)
            {
                Thread.Sleep(1);
                return 0;
            }
        """ + OtherOps + "}\n");

    [Fact]
    public async Task CodeThatDoesNotCompile()
    {
        var test = Verify.CreateTest(Usings + """
            sealed class BrokenExporter : DmaBufExporter
            {
                protected override nint KmapAtomic(DmaBuffer buffer, long pageNumber)
                {
                    Missing.Call(pageNumber);
                    var x = new Unknown();
                    x.Wait(
                    return Helper(;
                }

                protected override void KunmapAtomic(DmaBuffer buffer, long pageNumber, nint address) => Undefined();
            }
            """);
        test.CompilerDiagnostics = CompilerDiagnostics.None;
        await test.RunAsync();
    }

    [Fact]
    public Task AbstractOverrideWithoutBody() => Verify.VerifyAsync(Usings + """
        abstract class StillAbstract : DmaBufExporter
        {
            protected abstract override nint KmapAtomic(DmaBuffer buffer, long pageNumber);
        }
        """);
}
