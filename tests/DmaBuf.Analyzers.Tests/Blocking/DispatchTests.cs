// Virtual and interface calls may block when an implementation in the compilation for the receiver's type may, through
// wrappers too; none in the compilation, a library's receiver type, or an override the receiver cannot be stay silent.
using System.Threading.Tasks;
using Microsoft.CodeAnalysis.Testing;
using Verify = DmaBuf.Analyzers.Tests.AnalyzerVerifier<DmaBuf.Analyzers.Tests.Blocking.BlockingProbeAnalyzer>;

namespace DmaBuf.Analyzers.Tests.Blocking;

/// <summary>
/// Virtual and interface calls: a call may block if any implementation the compilation has for the receiver's static
/// type (or the one its run-time type is known to have) may; wrappers that delegate through an interface are followed.
/// </summary>
/// <remarks>
/// Deliberately silent, and why:
/// <list type="bullet">
/// <item>An interface or abstract method with no implementation in the compilation: implementations in other assemblies are not assumed.</item>
/// <item>A receiver whose static type is declared outside the compilation (<c>object.ToString()</c>, <c>IDisposable.Dispose()</c> on an <c>IDisposable</c>): the base class library's implementation is what is judged, not every override in the compilation.</item>
/// <item>An override that blocks, on a receiver that cannot be of its type (a sibling class), or that is known by its <c>new</c> to be of another type.</item>
/// </list>
/// </remarks>
public sealed class DispatchTests
{
    private const string Usings = """
        using System;
        using System.Threading;

        """;

    private const string Db = """
        public interface IDatabase
        {
            string Get(string key);
            int Count();
        }

        internal sealed class Multiplexer
        {
            private readonly object _gate = new();
            public string ExecuteSyncImpl(string key)
            {
                {|BLK0001:lock|} (_gate)
                {
                    {|BLK0001:Monitor.Wait(_gate, 100)|};
                }

                return key;
            }
        }

        internal sealed class RedisDatabase : IDatabase
        {
            private readonly Multiplexer _multiplexer = new();
            public string Get(string key) => {|BLK0001:ExecuteSync(key)|};
            public int Count() => 0;
            private string ExecuteSync(string key) => {|BLK0001:_multiplexer.ExecuteSyncImpl(key)|};
        }

        internal sealed class KeyPrefixedDatabase : IDatabase
        {
            private readonly IDatabase _inner;
            public KeyPrefixedDatabase(IDatabase inner) => _inner = inner;
            public string Get(string key) => {|BLK0001:_inner.Get("prefix:" + key)|};
            public int Count() => _inner.Count();
        }

        """;

    // ---- Reported -------------------------------------------------------------------------------------------------

    [Fact]
    public Task Reported_InterfaceCallWhoseImplementationBlocks_AlsoThroughAWrapper() => Verify.VerifyAsync(
        Usings + Db + """
        class C
        {
            void M(IDatabase db, KeyPrefixedDatabase prefixed)
            {
                {|#0:db.Get("k")|};
                {|BLK0001:prefixed.Get("k")|};
                db.Count();
                prefixed.Count();
            }
        }
        """,
        new DiagnosticResult(BlockingProbeAnalyzer.Rule).WithLocation(0).WithArguments("'IDatabase.Get(string)' (→ RedisDatabase.Get → ExecuteSync → Multiplexer.ExecuteSyncImpl → lock at line 14)"));

    [Fact]
    public Task Reported_VirtualCallOnAnAbstractBaseOfTheCompilation() => Verify.VerifyAsync(Usings + """
        public abstract class Writer
        {
            public abstract void WriteValue(int value);
            public virtual void Flush() { }
            public void Write(int value) { {|BLK0001:WriteValue(value)|}; {|BLK0001:Flush()|}; }
        }

        public class SlowWriter : Writer
        {
            public override void WriteValue(int value) => {|BLK0001:Thread.Sleep(value)|};
            public override void Flush() => {|BLK0001:Thread.Sleep(1)|};
        }

        public class FastWriter : Writer
        {
            public override void WriteValue(int value) { }
        }

        class C
        {
            void M(Writer writer)
            {
                {|BLK0001:writer.WriteValue(1)|};
                {|BLK0001:writer.Flush()|};
                {|BLK0001:writer.Write(1)|};
            }
        }
        """);

    // ---- Valid ----------------------------------------------------------------------------------------------------

    [Fact]
    public Task Valid_NoImplementationBlocks_OrNoneInTheCompilation() => Verify.VerifyAsync(Usings + """
        public interface ISource { int Lookup(int key); }
        public interface IRemote { int Fetch(int key); }

        internal sealed class TableSource : ISource { public int Lookup(int key) => key; }

        class C
        {
            void M(ISource source, IRemote remote, object any, IDisposable disposable)
            {
                source.Lookup(1);
                remote.Fetch(1);
                any.ToString();
                disposable.Dispose();
            }
        }

        sealed class Noisy : IDisposable
        {
            public void Dispose() => {|BLK0001:Thread.Sleep(1)|};
            public override string ToString() { {|BLK0001:Thread.Sleep(1)|}; return ""; }
        }
        """);

    [Fact]
    public Task Valid_OverrideOfAnotherTypeThanTheReceiverCanBe() => Verify.VerifyAsync(Usings + """
        public abstract class Writer
        {
            public abstract void WriteValue(int value);
            public void Write(int value) => {|BLK0001:WriteValue(value)|};
        }

        public class TextWriterLike : Writer
        {
            public override void WriteValue(int value) => {|BLK0001:Thread.Sleep(value)|};
        }

        public class TokenWriter : Writer
        {
            public override void WriteValue(int value) { }
        }

        class C
        {
            void M(TokenWriter tokens)
            {
                tokens.WriteValue(1);
                tokens.Write(1);
                Writer known = new TokenWriter();
                known.WriteValue(1);
                known.Write(2);
            }
        }
        """);
}
