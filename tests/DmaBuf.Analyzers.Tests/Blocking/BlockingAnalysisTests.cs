// What may block, through the probe: the base class library's table, await, lock, the runtime's [MightSleep], calls,
// recursion, lambdas, iterators, constructors, virtual calls and the user's list; what spins, polls, is async or in
// memory does not.
using System.Threading.Tasks;
using Microsoft.CodeAnalysis.Testing;
using Verify = DmaBuf.Analyzers.Tests.AnalyzerVerifier<DmaBuf.Analyzers.Tests.Blocking.BlockingProbeAnalyzer>;

namespace DmaBuf.Analyzers.Tests.Blocking;

/// <summary>
/// BlockingAnalysis through the probe analyzer, which reports every operation the analysis finds blocking.
/// </summary>
/// <remarks>
/// Deliberately silent, and why:
/// <list type="bullet">
/// <item>Thread.SpinWait, Thread.Yield, Monitor.TryEnter without a timeout, Wait(0) / TryTake with no or a zero timeout: they spin or poll, never sleep.</item>
/// <item>The *Async methods (ReadAsync, WaitAsync, Task.Delay, Task.Run): they return a task; only awaiting it blocks.</item>
/// <item>MemoryStream, StringReader, StringWriter: in-memory overrides of the stream and text members.</item>
/// <item>File.Exists and other file-system queries outside the table: precision first.</item>
/// <item>The runtime's KmapAtomic, KunmapAtomic, Kunmap, property getters and DmaBufPage.Dispose: the seed lets them not block.</item>
/// <item>A lambda that is only created (stored, passed to Task.Run): it runs later, if ever; a local that is assigned twice: its target is unknown.</item>
/// <item>The blocking operations inside a lambda or local function body: they are reported at the invocation, not where they are declared.</item>
/// <item>A call through an interface or abstract member with no implementation in the compilation: precision first (implementations in other assemblies are not assumed).</item>
/// <item>Calling an iterator (its body runs when enumerated) or an async method whose only blocking is its awaits.</item>
/// <item>Look-alike types (a Thread, DmaBuffer or MightSleepAttribute in another namespace), generated code, and a compilation without DmaBuf.Runtime.</item>
/// </list>
/// </remarks>
public sealed class BlockingAnalysisTests
{
    private const string Usings = """
        using System;
        using System.Collections.Concurrent;
        using System.Collections.Generic;
        using System.Diagnostics;
        using System.IO;
        using System.Net.Sockets;
        using System.Threading;
        using System.Threading.Tasks;
        using DmaBuf;

        """;

    [Fact]
    public Task Threads_SleepAndJoinBlock_SpinWaitAndYieldDoNot() => Verify.VerifyAsync(Usings + """
        class C
        {
            void M(Thread t)
            {
                {|BLK0001:Thread.Sleep(1)|};
                {|BLK0001:Thread.Sleep(TimeSpan.FromMilliseconds(1))|};
                {|BLK0001:Thread.Sleep(0)|};
                {|BLK0001:t.Join()|};
                Thread.SpinWait(10);
                Thread.Yield();
            }
        }
        """);

    [Fact]
    public Task Monitor_EnterWaitAndTryEnterWithTimeoutBlock() => Verify.VerifyAsync(Usings + """
        class C
        {
            void M(object o)
            {
                {|BLK0001:Monitor.Enter(o)|};
                {|BLK0001:Monitor.Wait(o)|};
                {|BLK0001:Monitor.TryEnter(o, 100)|};
                {|BLK0001:Monitor.TryEnter(o, TimeSpan.FromSeconds(1))|};
                Monitor.TryEnter(o);
                Monitor.TryEnter(o, 0);
                Monitor.TryEnter(o, TimeSpan.Zero);
                Monitor.Exit(o);
                Monitor.Pulse(o);
            }
        }
        """);

    [Fact]
    public Task WaitHandlesAndSlimPrimitives() => Verify.VerifyAsync(Usings + """
        class C
        {
            void M(ManualResetEvent e, Mutex mutex, WaitHandle[] all, SemaphoreSlim sem, ManualResetEventSlim slim,
                   CountdownEvent countdown, Barrier barrier, ReaderWriterLockSlim rw)
            {
                {|BLK0001:e.WaitOne()|};
                {|BLK0001:mutex.WaitOne(100)|};
                {|BLK0001:WaitHandle.WaitAll(all)|};
                {|BLK0001:WaitHandle.WaitAny(all)|};
                {|BLK0001:sem.Wait()|};
                {|BLK0001:slim.Wait()|};
                {|BLK0001:countdown.Wait()|};
                {|BLK0001:barrier.SignalAndWait()|};
                {|BLK0001:rw.EnterReadLock()|};
                {|BLK0001:rw.TryEnterWriteLock(10)|};
                sem.Wait(0);
                sem.WaitAsync();
                sem.Release();
                slim.Set();
                rw.TryEnterWriteLock(0);
                rw.ExitReadLock();
            }
        }
        """);

    [Fact]
    public Task Tasks_WaitResultAndGetResultBlock_DelayAndRunDoNot() => Verify.VerifyAsync(Usings + """
        class C
        {
            int M(Task t, Task<int> ti, ValueTask<int> vt)
            {
                {|BLK0001:t.Wait()|};
                {|BLK0001:Task.WaitAll(t)|};
                {|BLK0001:Task.WaitAny(t)|};
                {|BLK0001:t.GetAwaiter().GetResult()|};
                {|BLK0001:t.ConfigureAwait(false).GetAwaiter().GetResult()|};
                int a = {|BLK0001:ti.Result|};
                int b = {|BLK0001:vt.Result|};
                int c = {|BLK0001:ti.GetAwaiter().GetResult()|};
                Task.Delay(10);
                Task.Run(() => { });
                bool done = t.IsCompleted;
                return a + b + c;
            }
        }
        """);

    [Fact]
    public Task Streams_SyncIoBlocks_InMemoryAndAsyncDoNot() => Verify.VerifyAsync(Usings + """
        class C
        {
            void M(Stream s, FileStream fs, MemoryStream ms, byte[] buffer)
            {
                {|BLK0001:s.Read(buffer, 0, 1)|};
                {|BLK0001:s.Write(buffer, 0, 1)|};
                {|BLK0001:s.Flush()|};
                {|BLK0001:s.CopyTo(fs)|};
                {|BLK0001:s.ReadByte()|};
                {|BLK0001:fs.Read(buffer, 0, 1)|};
                {|BLK0001:fs.Read(buffer.AsSpan())|};
                using var f = {|BLK0001:new FileStream("x", FileMode.Open)|};
                ms.Read(buffer, 0, 1);
                ms.Write(buffer, 0, 1);
                ms.Flush();
                s.ReadAsync(buffer, 0, 1);
                s.FlushAsync();
                long length = ms.Length;
            }
        }
        """);

    [Fact]
    public Task Files_ReadWriteAppendOpenBlock() => Verify.VerifyAsync(Usings + """
        class C
        {
            void M()
            {
                {|BLK0001:File.ReadAllText("a")|};
                {|BLK0001:File.ReadAllBytes("a")|};
                {|BLK0001:File.WriteAllBytes("a", new byte[1])|};
                {|BLK0001:File.AppendAllText("a", "b")|};
                using var r = {|BLK0001:File.OpenRead("a")|};
                File.Exists("a");
                File.ReadAllTextAsync("a");
                Path.Combine("a", "b");
            }
        }
        """);

    [Fact]
    public Task ConsoleAndText_SyncIoBlocks_StringReaderAndWriterDoNot() => Verify.VerifyAsync(Usings + """
        class C
        {
            void M(TextReader reader, TextWriter writer, StreamReader streamReader, StringReader stringReader, StringWriter stringWriter)
            {
                {|BLK0001:Console.ReadLine()|};
                {|BLK0001:Console.Read()|};
                {|BLK0001:Console.ReadKey()|};
                {|BLK0001:Console.WriteLine("x")|};
                {|BLK0001:Console.Write(1)|};
                {|BLK0001:Console.Out.WriteLine("x")|};
                {|BLK0001:reader.ReadLine()|};
                {|BLK0001:reader.ReadToEnd()|};
                {|BLK0001:writer.Write("x")|};
                {|BLK0001:writer.Flush()|};
                {|BLK0001:streamReader.ReadLine()|};
                stringReader.ReadLine();
                stringWriter.Write("x");
                stringWriter.Write(1);
                writer.WriteLineAsync("x");
                var color = Console.ForegroundColor;
            }
        }
        """);

    [Fact]
    public Task SocketsProcessesAndBlockingCollections() => Verify.VerifyAsync(Usings + """
        class C
        {
            void M(Socket socket, byte[] buffer, Process process, BlockingCollection<int> queue)
            {
                {|BLK0001:socket.Send(buffer)|};
                {|BLK0001:socket.Receive(buffer)|};
                {|BLK0001:socket.Connect("host", 80)|};
                {|BLK0001:socket.Accept()|};
                {|BLK0001:process.WaitForExit()|};
                {|BLK0001:queue.Take()|};
                {|BLK0001:queue.Add(1)|};
                {|BLK0001:queue.TryTake(out _, 100)|};
                queue.TryTake(out _);
                queue.TryTake(out _, 0);
                {|BLK0001:foreach|} (int item in queue.GetConsumingEnumerable())
                {
                }

                foreach (int item in queue)
                {
                }

                socket.SendAsync(buffer);
                int available = socket.Available;
            }
        }
        """);

    [Fact]
    public Task NetworkParallelAndTheRestOfTheTable() => Verify.VerifyAsync(Usings + """
        using System.Net;
        using System.Net.Http;

        class C
        {
            void M(TcpClient tcp, TcpListener listener, UdpClient udp, HttpClient http, HttpRequestMessage request, ValueTask vt, Process process)
            {
                {|BLK0001:tcp.Connect("host", 80)|};
                {|BLK0001:listener.AcceptTcpClient()|};
                {|BLK0001:listener.AcceptSocket()|};
                IPEndPoint? remote = null;
                {|BLK0001:udp.Receive(ref remote)|};
                {|BLK0001:Dns.GetHostEntry("host")|};
                {|BLK0001:http.Send(request)|};
                {|BLK0001:Parallel.For(0, 10, i => { })|};
                {|BLK0001:Parallel.Invoke(() => { })|};
                {|BLK0001:vt.GetAwaiter().GetResult()|};
                {|BLK0001:GC.WaitForPendingFinalizers()|};
                {|BLK0001:process.WaitForInputIdle()|};
                tcp.ConnectAsync("host", 80);
                http.SendAsync(request);
                Dns.GetHostEntryAsync("host");
                GC.Collect();
                process.Kill();
            }
        }
        """);

    [Fact]
    public Task AwaitAwaitForeachAwaitUsingAndLockBlock() => Verify.VerifyAsync(Usings + """
        class C
        {
            readonly object _gate = new();

            async Task M(IAsyncEnumerable<int> items, IAsyncDisposable resource)
            {
                {|BLK0001:await Task.Yield()|};
                {|BLK0001:await|} foreach (int item in items)
                {
                }

                {|BLK0001:await|} using (resource)
                {
                }

                {|BLK0001:await|} using var other = resource;
                {|BLK0001:lock|} (_gate)
                {
                }
            }
        }
        """);

    [Fact]
    public Task Runtime_BlockingCallsAreTheMightSleepOnes() => Verify.VerifyAsync(Usings + """
        class C
        {
            void M(DmaBuffer buf, CpuAccessScope scope)
            {
                {|BLK0001:buf.BeginCpuAccess(0, 4096, DmaDataDirection.FromDevice)|};
                var page = {|BLK0001:buf.Kmap(0)|};
                buf.Kunmap(0, page);
                var atomic = buf.KmapAtomic(0);
                buf.KunmapAtomic(0, atomic);
                atomic.Dispose();
                {|BLK0001:buf.EndCpuAccess(0, 4096, DmaDataDirection.FromDevice)|};
                {|BLK0001:using|} ({|BLK0001:buf.CpuAccess(0, 4096, DmaDataDirection.FromDevice)|})
                {
                }

                {|BLK0001:scope.Dispose()|};
                {|BLK0001:buf.Put()|};
                {|BLK0001:DmaBufValidation.MightSleep()|};
                long size = buf.Size + buf.PageCount;
            }
        }
        """);

    [Fact]
    public Task MightSleep_OnMethodsPropertiesConstructorsOverridesAndInterfaceImplementations() => Verify.VerifyAsync(Usings + """
        interface IPort
        {
            [MightSleep] void Read();
        }

        class Port : IPort
        {
            public void Read() { }
        }

        class Base
        {
            [MightSleep] public virtual void Flush() { }
        }

        class Derived : Base
        {
            public override void Flush() { }
        }

        class Device2
        {
            [MightSleep] public Device2() { }

            [MightSleep] public int Status => 0;

            [MightSleep] public static void Reset() { }
        }

        class C
        {
            void M(Port port, IPort iport, Derived derived, Device2 device)
            {
                {|BLK0001:port.Read()|};
                {|BLK0001:iport.Read()|};
                {|BLK0001:derived.Flush()|};
                var d = {|BLK0001:new Device2()|};
                int s = {|BLK0001:device.Status|};
                {|BLK0001:Device2.Reset()|};
            }
        }
        """);

    [Fact]
    public Task Interprocedural_ChainOfDepthFive() => Verify.VerifyAsync(Usings + """
        class C
        {
            void M() => {|#0:L1()|};
            void L1() => {|BLK0001:L2()|};
            void L2() => {|BLK0001:L3()|};
            void L3() => {|BLK0001:L4()|};
            void L4() => {|BLK0001:L5()|};
            void L5() => {|BLK0001:Thread.Sleep(1)|};
            void Quiet1() => Quiet2();
            void Quiet2() => Quiet3();
            void Quiet3() => Thread.SpinWait(1);
        }
        """,
        new DiagnosticResult(BlockingProbeAnalyzer.Rule).WithLocation(0).WithArguments("'C.L1()' (→ L2 → L3 → L4 → L5 → Thread.Sleep at line 17)"));

    [Fact]
    public Task Recursion_BlocksOnlyWhenSomethingInItBlocks() => Verify.VerifyAsync(Usings + """
        class C
        {
            int Count(int n) => n == 0 ? 0 : 1 + Count(n - 1);

            void Spin(int n)
            {
                if (n > 0)
                {
                    {|BLK0001:Spin(n - 1)|};
                    {|BLK0001:Thread.Sleep(1)|};
                }
            }

            void M()
            {
                Count(3);
                {|BLK0001:Spin(3)|};
            }
        }
        """);

    [Fact]
    public Task MutualRecursion_BlocksOnlyWhenSomethingInTheCycleBlocks() => Verify.VerifyAsync(Usings + """
        class C
        {
            bool IsEven(int n) => n == 0 || IsOdd(n - 1);
            bool IsOdd(int n) => n != 0 && IsEven(n - 1);

            void Ping(int n) { if (n > 0) {|BLK0001:Pong(n - 1)|}; }
            void Pong(int n) { if (n > 0) {|BLK0001:Pang(n - 1)|}; }
            void Pang(int n) { {|BLK0001:Ping(n)|}; {|BLK0001:Thread.Sleep(n)|}; }

            void M()
            {
                IsEven(4);
                {|BLK0001:Ping(4)|};
            }
        }
        """);

    [Fact]
    public Task LocalFunction_BlocksWhereItIsCalled() => Verify.VerifyAsync(Usings + """
        class C
        {
            void M()
            {
                {|BLK0001:Wait()|};
                Quiet();
                {|BLK0001:Outer()|};

                void Wait() => Thread.Sleep(1);
                void Quiet() => Thread.SpinWait(1);
                void Outer() { Inner(); void Inner() => Thread.Sleep(1); }
                void NeverCalled() => Thread.Sleep(1);
            }
        }
        """);

    [Fact]
    public Task InvokedLambda_Blocks() => Verify.VerifyAsync(Usings + """
        class C
        {
            void M()
            {
                Action a = () => Thread.Sleep(1);
                {|BLK0001:a()|};
                {|BLK0001:a.Invoke()|};
                {|BLK0001:new Action(() => Thread.Sleep(1))()|};
                {|BLK0001:((Action)(() => Thread.Sleep(1)))()|};
                Action group = Helper;
                {|BLK0001:group()|};
                Func<int> quiet = () => 1;
                quiet();
            }

            void Helper() => {|BLK0001:Thread.Sleep(1)|};
        }
        """);

    [Fact]
    public Task LambdaOnlyDefined_IsSilent() => Verify.VerifyAsync(Usings + """
        class C
        {
            Action _stored;

            void M(bool flag)
            {
                Action a = () => Thread.Sleep(1);
                _stored = () => Thread.Sleep(1);
                Task.Run(() => Thread.Sleep(1));
                Func<Task> later = async () => await Task.Delay(1);
                later();

                Action twice = () => { };
                if (flag)
                {
                    twice = () => Thread.Sleep(1);
                }

                twice();
                _stored();
            }
        }
        """);

    [Fact]
    public Task LookAlikeTypesInAnotherNamespace_AreSilent() => Verify.VerifyAsync("""
        namespace Fake
        {
            using System;

            [AttributeUsage(AttributeTargets.Method)]
            sealed class MightSleepAttribute : Attribute { }

            static class Thread { public static void Sleep(int ms) { } }

            static class Monitor { public static void Enter(object o) { } }

            sealed class DmaBuffer
            {
                public void Kmap(long page) { }
                public void BeginCpuAccess(long start, long length, int direction) { }
            }

            class C
            {
                [MightSleep] void Marked() { }

                void M(DmaBuffer buf)
                {
                    Thread.Sleep(1);
                    Monitor.Enter(this);
                    buf.Kmap(0);
                    buf.BeginCpuAccess(0, 1, 0);
                    Marked();
                }
            }
        }
        """);

    [Fact]
    public Task GeneratedCode_IsSilent() => Verify.VerifyAsync("""
        // <auto-generated/>
        using System.Threading;

        class Generated
        {
            void M()
            {
                Thread.Sleep(1);
                lock (this) { }
            }
        }
        """);

    [Fact]
    public async Task CodeThatDoesNotCompile_DoesNotCrash()
    {
        const string source = Usings + """
            class C : Missing
            {
                void M(Unknown u)
                {
                    u.Wait();
                    Undefined();
                    Thread.Sleep(;
                    Helper(1, 2);
                    lock () { }
                    foreach (var x in ) { }
                    var t = new Nope();
                    Action a = () => Thread.Sleep(1)
                    a();
                    Task<int> r = null;
                    _ = r.Result.Missing;
                }

                void Helper() => Thread.Sleep(1);
                void Cycle() => Cycle(
            """;

        // Whatever is still recognizable may be reported; an exception in the analysis would surface as AD0001.
        var diagnostics = await BlockingTestCompilation.RunAnalyzerAsync(source, new BlockingProbeAnalyzer());
        Assert.DoesNotContain(diagnostics, d => d.Id == "AD0001");
        Assert.Contains(diagnostics, d => d.Id == BlockingProbeAnalyzer.Id);
    }

    [Fact]
    public Task EditorConfig_AdditionalBlockingMethods_DocIdsAndAllOverloads() => Verify.VerifyAsync(Usings + """
        namespace Lib
        {
            public class Port { public void Read() { } public void Read(int n) { } public void Write() { } }
            public class Bus { public void Flush() { } public void Flush(int n) { } }
            public class Nested { public class Inner { public void Poll() { } } }
        }

        class C
        {
            void M(Lib.Port port, Lib.Bus bus, Lib.Nested.Inner inner)
            {
                {|BLK0001:port.Read()|};
                {|BLK0001:port.Read(1)|};
                port.Write();
                {|BLK0001:bus.Flush(1)|};
                bus.Flush();
                {|BLK0001:inner.Poll()|};
                {|BLK0001:Environment.GetEnvironmentVariable("X")|};
                {|BLK0001:Relay()|};
            }

            void Relay() => {|BLK0001:new Lib.Port().Read()|};
        }
        """,
        "dotnet_code_quality.DMA0005.additional_blocking_methods = Lib.Port.Read | M:Lib.Bus.Flush(System.Int32), Lib.Nested+Inner.Poll|System.Environment.GetEnvironmentVariable|No.Such.Method|garbage\n");

    [Fact]
    public async Task GlobalConfig_AdditionalBlockingMethods()
    {
        var test = Verify.CreateTest(Usings + """
            namespace Lib { public class Port { public void Read() { } } }

            class C
            {
                void M(Lib.Port port) => {|BLK0001:port.Read()|};
            }
            """);
        test.TestState.AnalyzerConfigFiles.Add(("/.globalconfig", "is_global = true\ndotnet_code_quality.DMA0005.additional_blocking_methods = Lib.Port.Read\n"));
        await test.RunAsync();
    }

    [Fact]
    public Task Iterators_BlockWhenEnumerated_NotWhenCalled() => Verify.VerifyAsync(Usings + """
        class C
        {
            IEnumerable<int> Slow()
            {
                {|BLK0001:Thread.Sleep(1)|};
                yield return 1;
            }

            IEnumerable<int> Fast()
            {
                yield return 1;
            }

            void M()
            {
                var lazy = Slow();
                {|BLK0001:foreach|} (int x in Slow())
                {
                }

                foreach (int x in Fast())
                {
                }
            }
        }
        """);

    [Fact]
    public Task AsyncMethods_TheirAwaitsDoNotBlockTheCaller_OtherBlockingDoes() => Verify.VerifyAsync(Usings + """
        class C
        {
            async Task Polite() => {|BLK0001:await Task.Delay(1)|};

            async Task Rude()
            {
                {|BLK0001:Thread.Sleep(1)|};
                {|BLK0001:await Task.Delay(1)|};
            }

            void M()
            {
                Polite();
                {|BLK0001:Rude()|};
            }
        }
        """);

    [Fact]
    public Task PropertiesEventsOperatorsAndConstructorsInSource() => Verify.VerifyAsync(Usings + """
        struct Money
        {
            public static Money operator +(Money a, Money b) { {|BLK0001:Thread.Sleep(1)|}; return a; }
            public static implicit operator int(Money m) { {|BLK0001:Thread.Sleep(1)|}; return 0; }
        }

        class Sensor
        {
            public Sensor() => {|BLK0001:Thread.Sleep(1)|};
            public Sensor(int quiet) { }
            public int Value { get { {|BLK0001:Thread.Sleep(1)|}; return 0; } set { } }
            public int Level { get => 0; set => {|BLK0001:Thread.Sleep(value)|}; }
            public event EventHandler Changed { add => {|BLK0001:Thread.Sleep(1)|}; remove { } }
        }

        class C
        {
            void M(Sensor s, Money a, Money b, EventHandler h)
            {
                var x = {|BLK0001:a + b|};
                int i = {|BLK0001:a|};
                var created = {|BLK0001:new Sensor()|};
                var quiet = new Sensor(1);
                int v = {|BLK0001:s.Value|};
                s.Value = 1;
                int l = s.Level;
                {|BLK0001:s.Level|} = 2;
                {|BLK0001:s.Changed += h|};
                s.Changed -= h;
            }
        }
        """);

    [Fact]
    public Task Constructors_RunTheInstanceInitializers() => Verify.VerifyAsync(Usings + """
        class Loader
        {
            private readonly byte[] _data = {|BLK0001:File.ReadAllBytes("x")|};
            public Loader() { }
            public Loader(int n) {|BLK0001:: this()|} { }
        }

        class Implicit
        {
            public string Text { get; } = {|BLK0001:File.ReadAllText("x")|};
        }

        class Quiet
        {
            private static readonly string s_text = {|BLK0001:File.ReadAllText("x")|};
            private int _n = 1;
        }

        class C
        {
            void M()
            {
                {|BLK0001:new Loader()|};
                {|BLK0001:new Loader(1)|};
                {|BLK0001:new Implicit()|};
                new Quiet();
            }
        }
        """);

    [Fact]
    public Task VirtualAndInterfaceCalls_FollowEveryImplementationInTheCompilation() => Verify.VerifyAsync(Usings + """
        interface IWorker { void Work(); }

        abstract class WorkerBase : IWorker
        {
            public abstract void Work();
            public virtual void Rest() { }
        }

        sealed class Sleeper : WorkerBase
        {
            public override void Work() => {|BLK0001:Thread.Sleep(1)|};
            public override void Rest() => {|BLK0001:Thread.Sleep(1)|};
        }

        class C
        {
            void M(IWorker worker, WorkerBase @base, Sleeper sleeper)
            {
                {|BLK0001:worker.Work()|};
                {|BLK0001:@base.Work()|};
                {|BLK0001:@base.Rest()|};
                {|BLK0001:sleeper.Work()|};
                {|BLK0001:sleeper.Rest()|};
                {|BLK0001:((IWorker)sleeper).Work()|};
            }
        }
        """);

    [Fact]
    public Task UsingWhoseDisposeBlocks() => Verify.VerifyAsync(Usings + """
        sealed class Flusher : IDisposable
        {
            public void Dispose() => {|BLK0001:Thread.Sleep(1)|};
        }

        sealed class Quiet : IDisposable
        {
            public void Dispose() { }
        }

        class C
        {
            void M()
            {
                {|BLK0001:using|} (new Flusher())
                {
                }

                using (new Quiet())
                {
                }

                {|BLK0001:using|} var f = new Flusher();
                using var q = new Quiet();
                {|BLK0001:using|} (Flusher first = new Flusher(), second = new Flusher())
                {
                }

                using (Quiet first = new Quiet(), second = new Quiet())
                {
                }
            }
        }
        """);

    [Fact]
    public Task Descriptions_NameTheCall() => Verify.VerifyAsync(Usings + """
        class C
        {
            readonly object _gate = new();

            async Task M(Task<int> t, Task<int> other)
            {
                {|#0:Thread.Sleep(1)|};
                {|#1:lock|} (_gate) { }
                {|#2:await t|};
                _ = {|#3:other.Result|};
                {|#4:Helper()|};
                Action a = () => Thread.Sleep(1);
                {|#5:a()|};
                {|#7:Local()|};
                _ = nameof(t.Result);

                void Local() => Thread.Sleep(2);
            }

            void Helper()
            {
                {|#6:Thread.Sleep(1)|};
            }
        }
        """,
        new DiagnosticResult(BlockingProbeAnalyzer.Rule).WithLocation(0).WithArguments("'Thread.Sleep(int)'"),
        new DiagnosticResult(BlockingProbeAnalyzer.Rule).WithLocation(1).WithArguments("'lock'"),
        new DiagnosticResult(BlockingProbeAnalyzer.Rule).WithLocation(2).WithArguments("'await'"),
        new DiagnosticResult(BlockingProbeAnalyzer.Rule).WithLocation(3).WithArguments("'Task<int>.Result'"),
        new DiagnosticResult(BlockingProbeAnalyzer.Rule).WithLocation(4).WithArguments("'C.Helper()' (→ Thread.Sleep at line 31)"),
        new DiagnosticResult(BlockingProbeAnalyzer.Rule).WithLocation(5).WithArguments("the lambda at line 21 (→ Thread.Sleep at line 21)"),
        new DiagnosticResult(BlockingProbeAnalyzer.Rule).WithLocation(6).WithArguments("'Thread.Sleep(int)'"),
        new DiagnosticResult(BlockingProbeAnalyzer.Rule).WithLocation(7).WithArguments("'Local()' (→ Thread.Sleep at line 26)"));

    [Fact]
    public async Task WithoutTheRuntime_NothingIsReported()
    {
        var test = new Microsoft.CodeAnalysis.CSharp.Testing.CSharpAnalyzerTest<BlockingProbeAnalyzer, DefaultVerifier>
        {
            TestCode = """
                using System.Threading;

                class C
                {
                    void M() => Thread.Sleep(1);
                }
                """,
            ReferenceAssemblies = ReferenceAssemblies.Net.Net80,
        };
        await test.RunAsync();
    }
}
