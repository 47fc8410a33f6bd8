// Blocking branches ruled out by the caller's arguments: a constant bool (passed on, negated or a default), an empty
// params array, and overrides of a known receiver judged by their bodies; false, unknown or non-empty ones may block.
using System.Threading.Tasks;
using Verify = DmaBuf.Analyzers.Tests.AnalyzerVerifier<DmaBuf.Analyzers.Tests.Blocking.BlockingProbeAnalyzer>;

namespace DmaBuf.Analyzers.Tests.Blocking;

/// <summary>
/// Branches ruled out by what the caller passes: a bool parameter's value (<c>Write(async: true, …)</c> into
/// <c>if (async) … else stream.Write(…)</c>), an empty array (<c>if (converters.Length &gt; 0)</c> with no converters);
/// and overrides of the table's stream and reader members judged by their own bodies where the receiver's type is known.
/// </summary>
/// <remarks>
/// Deliberately silent, and why:
/// <list type="bullet">
/// <item>A call with a constant that rules out the branch that blocks, directly, through parameters passed on (negated too), or a default value.</item>
/// <item>A <c>params</c> array passed nothing (or <c>Array.Empty</c>, <c>new T[0]</c>, a helper that returns one) into a test of its length.</item>
/// <item>A Stream or TextReader of the compilation whose override does not block (it throws, it reads a string), called on a receiver of that type.</item>
/// </list>
/// </remarks>
public sealed class ConstantArgumentTests
{
    private const string Usings = """
        using System;
        using System.IO;
        using System.Threading;
        using System.Threading.Tasks;

        """;

    private const string Writer = """
        sealed class Channel
        {
            private readonly Stream _stream;
            public Channel(Stream stream) => _stream = stream;

            public async Task Write(bool async, byte[] data)
            {
                if (async)
                {
                    {|BLK0001:await _stream.WriteAsync(data, 0, data.Length)|};
                }
                else
                {
                    {|BLK0001:_stream.Write(data, 0, data.Length)|};
                }
            }

            public Task Flush(bool async) => {|BLK0001:Write(async, Array.Empty<byte>())|};
            public Task FlushNot(bool sync) => {|BLK0001:Write(!sync, Array.Empty<byte>())|};
            public Task WriteDefault(byte[] data, bool async = true) => {|BLK0001:Write(async, data)|};
        }

        """;

    // ---- Valid ----------------------------------------------------------------------------------------------------

    [Fact]
    public Task Valid_AsyncTrueRulesOutTheSynchronousWrite() => Verify.VerifyAsync(Usings + Writer + """
        class C
        {
            Task M(Channel channel, byte[] data)
            {
                channel.Write(async: true, data);
                channel.Flush(true);
                channel.FlushNot(sync: false);
                return channel.WriteDefault(data);
            }
        }
        """);

    [Fact]
    public Task Valid_RecursionPassingTheFlagOn() => Verify.VerifyAsync(Usings + """
        class C
        {
            static void Walk(bool quiet, int depth)
            {
                if (depth > 0)
                {
                    {|BLK0001:Walk(quiet, depth - 1)|};
                }

                if (!quiet)
                {
                    {|BLK0001:Thread.Sleep(1)|};
                }
            }

            void M() => Walk(true, 3);
        }
        """);

    [Fact]
    public Task Valid_EmptyParamsArrayRulesOutTheConverterBranch() => Verify.VerifyAsync(Usings + """
        class C
        {
            private static readonly object s_gate = new();

            static void Write(TextWriter writer, params object[] converters)
            {
                if (converters != null && converters.Length > 0)
                {
                    {|BLK0001:lock|} (s_gate)
                    {
                    }
                }
            }

            static object[] None() => Array.Empty<object>();

            void M(TextWriter writer)
            {
                Write(writer);
                Write(writer, new object[0]);
                Write(writer, None());
            }
        }
        """);

    [Fact]
    public Task Valid_OverridesJudgedByTheirBodies() => Verify.VerifyAsync(Usings + """
        sealed class ReadOnlyWrapper : Stream
        {
            public override bool CanRead => true;
            public override bool CanSeek => false;
            public override bool CanWrite => false;
            public override long Length => 0;
            public override long Position { get => 0; set => throw new NotSupportedException(); }
            public override void Flush() { }
            public override int Read(byte[] buffer, int offset, int count) => 0;
            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
            public override void SetLength(long value) => throw new NotSupportedException();
            public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        }

        sealed class TextOverString : TextReader
        {
            private readonly string _text;
            private int _position;
            public TextOverString(string text) => _text = text;
            public override int Read() => _position < _text.Length ? _text[_position++] : -1;
        }

        class C
        {
            void M(ReadOnlyWrapper wrapper, byte[] data)
            {
                wrapper.Write(data, 0, 1);
                wrapper.Flush();
                Stream stream = new ReadOnlyWrapper();
                stream.Write(data, 0, 1);
                new TextOverString("abc").Read();
            }
        }
        """);

    // ---- Reported -------------------------------------------------------------------------------------------------

    [Fact]
    public Task Reported_AsyncFalseOrNotKnown() => Verify.VerifyAsync(Usings + Writer + """
        class C
        {
            Task M(Channel channel, byte[] data, bool which)
            {
                {|BLK0001:channel.Write(async: false, data)|};
                {|BLK0001:channel.Write(which, data)|};
                {|BLK0001:channel.Flush(false)|};
                {|BLK0001:channel.FlushNot(sync: true)|};
                return {|BLK0001:channel.WriteDefault(data, async: false)|};
            }
        }
        """);

    [Fact]
    public Task Reported_NonEmptyOrUnknownArray() => Verify.VerifyAsync(Usings + """
        class C
        {
            private static readonly object s_gate = new();

            static void Write(params object[] converters)
            {
                if (converters.Length != 0)
                {
                    {|BLK0001:lock|} (s_gate)
                    {
                    }
                }
            }

            void M(object[] given)
            {
                {|BLK0001:Write(1)|};
                {|BLK0001:Write(given)|};
            }
        }
        """);

    [Fact]
    public Task Reported_AnOverrideThatBlocks_OrAStreamOfUnknownType() => Verify.VerifyAsync(Usings + """
        sealed class SlowStream : MemoryStream
        {
            public override void Write(byte[] buffer, int offset, int count) => {|BLK0001:Thread.Sleep(count)|};
        }

        class C
        {
            void M(SlowStream slow, Stream unknown, byte[] data)
            {
                {|BLK0001:slow.Write(data, 0, 1)|};
                {|BLK0001:unknown.Write(data, 0, 1)|};
            }
        }
        """);
}
