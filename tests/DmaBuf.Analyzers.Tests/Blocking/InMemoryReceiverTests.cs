// Stream, reader and writer I/O decided by the receiver: in-memory arguments, locals and readonly fields every
// constructor fills do not block; an unknown writer, one of two on some path, or a field filled or set from outside
// may.
using System.Threading.Tasks;
using Verify = DmaBuf.Analyzers.Tests.AnalyzerVerifier<DmaBuf.Analyzers.Tests.Blocking.BlockingProbeAnalyzer>;

namespace DmaBuf.Analyzers.Tests.Blocking;

/// <summary>
/// Stream, reader and writer I/O decided by what the receiver is on every path: a summary says "blocks only if what
/// parameter i (or field f of the receiver) refers to is not in memory", and each call decides it from what it passes.
/// </summary>
/// <remarks>
/// Deliberately silent, and why:
/// <list type="bullet">
/// <item>A helper called with a <c>new StringWriter(sb)</c>, a <c>MemoryStream</c>, a <c>StringReader</c>, a local only ever given one, null: in-memory I/O never blocks.</item>
/// <item>An object whose readonly field every constructor (or the constructor of the <c>new</c> at hand) fills with an in-memory writer, also through a second object, a chained constructor or a lazy private field behind a property.</item>
/// <item>A value typed as a StringWriter, whatever call made it.</item>
/// </list>
/// The helpers' own I/O is reported where their parameter or field is not known (any writer may be passed).
/// </remarks>
public sealed class InMemoryReceiverTests
{
    private const string Usings = """
        using System;
        using System.IO;
        using System.Text;

        """;

    // ---- Valid ----------------------------------------------------------------------------------------------------

    [Fact]
    public Task Valid_InMemoryArgumentsToAHelperThatWritesItsParameter() => Verify.VerifyAsync(Usings + """
        class C
        {
            static void Emit(TextWriter writer, string text) => {|BLK0001:writer.Write(text)|};
            static int Fill(Stream stream) { {|BLK0001:stream.Write(new byte[1], 0, 1)|}; return {|BLK0001:stream.ReadByte()|}; }
            static string Line(TextReader reader) => {|BLK0001:reader.ReadLine()|} ?? "";

            string M(StringBuilder sb)
            {
                Emit(new StringWriter(sb), "a");
                var local = new StringWriter();
                Emit(local, "b");
                Emit(null!, "c");
                Fill(new MemoryStream());
                Line(new StringReader("x"));
                StringWriter typed = Create();
                Emit(typed, "d");
                return local.ToString();
            }

            static StringWriter Create() => new StringWriter();
        }
        """);

    [Fact]
    public Task Valid_ThroughTwoHelpersThatPassTheParameterOn() => Verify.VerifyAsync(Usings + """
        class C
        {
            static void Outer(TextWriter writer) => {|BLK0001:Inner(writer, 1)|};
            static void Inner(TextWriter writer, int n) { for (int i = 0; i < n; i++) {|BLK0001:writer.Write(i)|}; }

            void M() => Outer(new StringWriter());
        }
        """);

    [Fact]
    public Task Valid_ReadonlyFieldFilledByTheConstructorOfTheNewAtHand() => Verify.VerifyAsync(Usings + """
        sealed class JsonOut
        {
            private readonly TextWriter _writer;
            public JsonOut(TextWriter writer) => _writer = writer ?? throw new ArgumentNullException(nameof(writer));
            public JsonOut(StringBuilder sb) : this(new StringWriter(sb)) { }
            public void Value(int v) => {|BLK0001:_writer.Write(v)|};
        }

        class C
        {
            static void Serialize(JsonOut output) => {|BLK0001:output.Value(1)|};

            void M(StringBuilder sb)
            {
                var json = new JsonOut(new StringWriter(sb));
                json.Value(1);
                Serialize(json);
                new JsonOut(sb).Value(2);
            }
        }
        """);

    [Fact]
    public Task Valid_FieldEveryConstructorFillsInMemory_AndAWrapperOfIt() => Verify.VerifyAsync(Usings + """
        sealed class Tracer
        {
            private readonly StringWriter _log = new StringWriter();
            private readonly TextWriter _text;
            public Tracer() => _text = new StringWriter();
            public void Note(string s) { _log.Write(s); _text.WriteLine(s); }
        }

        sealed class Outer
        {
            private readonly Tracer _tracer = new Tracer();
            public void Note(string s) => _tracer.Note(s);
        }

        class C
        {
            void M(Tracer tracer, Outer outer)
            {
                tracer.Note("a");
                outer.Note("b");
            }
        }
        """);

    [Fact]
    public Task Valid_LazyPrivateFieldBehindAProperty() => Verify.VerifyAsync(Usings + """
        sealed class Encoder
        {
            private readonly TextWriter _writer;
            public Encoder(TextWriter writer) => _writer = writer;
            public void Encode(char c) => {|BLK0001:_writer.Write(c)|};
        }

        sealed class Output
        {
            private readonly TextWriter _writer;
            private Encoder? _encoder;
            public Output(TextWriter writer) => _writer = writer;
            private Encoder Encoder => _encoder ??= new Encoder(_writer);
            public void Bytes() => {|BLK0001:Encoder.Encode('x')|};
        }

        class C
        {
            void M() => new Output(new StringWriter()).Bytes();
        }
        """);

    // ---- Reported -------------------------------------------------------------------------------------------------

    [Fact]
    public Task Reported_AWriterThatIsNotKnownToBeInMemory() => Verify.VerifyAsync(Usings + """
        class C
        {
            static void Emit(TextWriter writer) => {|BLK0001:writer.Write("x")|};

            void M(TextWriter unknown, bool flag, string path)
            {
                {|BLK0001:Emit(unknown)|};
                {|BLK0001:Emit(Console.Out)|};
                {|BLK0001:Emit(new StreamWriter(path))|};
                {|BLK0001:Emit(flag ? new StringWriter() : Console.Out)|};
                TextWriter either = new StringWriter();
                if (flag)
                {
                    either = Console.Error;
                }

                {|BLK0001:Emit(either)|};
            }
        }
        """);

    [Fact]
    public Task Reported_FieldFilledFromAnUnknownWriter_OrWritableFromOutside() => Verify.VerifyAsync(Usings + """
        sealed class JsonOut
        {
            private readonly TextWriter _writer;
            public JsonOut(TextWriter writer) => _writer = writer;
            public void Value(int v) => {|BLK0001:_writer.Write(v)|};
        }

        sealed class Settable
        {
            internal TextWriter Writer = new StringWriter();
            public void Value(int v) => {|BLK0001:Writer.Write(v)|};
        }

        class C
        {
            void M(TextWriter unknown, JsonOut given, Settable settable)
            {
                {|BLK0001:new JsonOut(unknown).Value(1)|};
                {|BLK0001:given.Value(2)|};
                {|BLK0001:settable.Value(3)|};
            }
        }
        """);

    [Fact]
    public Task Reported_MessageNamesTheChainDownToTheWriterCall() => Verify.VerifyAsync(
        Usings + """
        class C
        {
            static void Outer(TextWriter writer) => {|BLK0001:Inner(writer)|};
            static void Inner(TextWriter writer) => {|BLK0001:writer.Flush()|};

            void M(TextWriter unknown) => {|#0:Outer(unknown)|};
        }
        """,
        new Microsoft.CodeAnalysis.Testing.DiagnosticResult(BlockingProbeAnalyzer.Rule).WithLocation(0).WithArguments("'C.Outer(TextWriter)' (→ Inner → TextWriter.Flush at line 7)"));
}
