// The call chain a blocking description shows: shortened past six elements, cut where it is too deep to follow, types
// named where they change, through cycles, lambdas, constructors and properties, and the file of a call in another.
using System.Threading.Tasks;
using Microsoft.CodeAnalysis.Testing;
using Verify = DmaBuf.Analyzers.Tests.AnalyzerVerifier<DmaBuf.Analyzers.Tests.Blocking.BlockingProbeAnalyzer>;

namespace DmaBuf.Analyzers.Tests.Blocking;

/// <summary>
/// The chain a description gives: every call from the flagged one down to the blocking operation, by name (with the
/// type where it changes), the blocking operation with its line (and file when it is another), at most six elements.
/// </summary>
/// <remarks>
/// Deliberately silent, and why: nothing here is silent by design; each case checks the text of a report. A cycle of
/// calls with nothing blocking in it is silent (covered by BlockingAnalysisTests and MayBlockTests).
/// </remarks>
public sealed class ChainTests
{
    private const string Usings = """
        using System;
        using System.Threading;

        """;

    [Fact]
    public Task LongChainsShowTheFirstThreeAndTheLastTwo() => Verify.VerifyAsync(
        Usings + """
        class C
        {
            void M() => {|#0:A()|};
            void A() => {|BLK0001:B()|};
            void B() => {|BLK0001:D()|};
            void D() => {|BLK0001:E()|};
            void E() => {|BLK0001:F()|};
            void F() => {|BLK0001:G()|};
            void G() => {|BLK0001:H()|};
            void H() => {|BLK0001:Thread.Sleep(1)|};
        }
        """,
        new DiagnosticResult(BlockingProbeAnalyzer.Rule).WithLocation(0).WithArguments("'C.A()' (→ B → D → E → … → H → Thread.Sleep at line 12)"));

    [Fact]
    public async Task AChainTooLongToFollowShowsItsStart()
    {
        // 300 calls deep: the call still blocks; its chain shows where it starts.
        var source = new System.Text.StringBuilder(Usings + "class C\n{\n    void M() => {|#0:L0()|};\n");
        for (int i = 0; i < 300; i++)
        {
            source.Append($"    void L{i}() => {{|BLK0001:L{i + 1}()|}};\n");
        }

        source.Append("    void L300() => {|BLK0001:Thread.Sleep(1)|};\n}\n");
        await Verify.VerifyAsync(source.ToString(), new DiagnosticResult(BlockingProbeAnalyzer.Rule).WithLocation(0).WithArguments("'C.L0()' (→ L1 → L2 → L3 → …)"));
    }

    [Fact]
    public Task TypesAreNamedWhereTheyChange_LambdasConstructorsAndPropertiesToo() => Verify.VerifyAsync(
        Usings + """
        sealed class Port
        {
            public Port() => {|BLK0001:Settle()|};
            public int Status => {|BLK0001:Read()|};
            private static void Settle() => {|BLK0001:Thread.Sleep(1)|};
            private int Read() { Action wait = () => Thread.Sleep(1); {|BLK0001:wait()|}; return 0; }
        }

        class C
        {
            int M() => {|#0:Make()|};
            int Make()
            {
                var port = {|BLK0001:new Port()|};
                return {|BLK0001:port.Status|};
            }

            int N(Port port) => {|#1:port.Status|};
        }
        """,
        new DiagnosticResult(BlockingProbeAnalyzer.Rule).WithLocation(0).WithArguments("'C.Make()' (→ new Port → Settle → Thread.Sleep at line 7)"),
        new DiagnosticResult(BlockingProbeAnalyzer.Rule).WithLocation(1).WithArguments("'Port.Status' (→ Read → lambda at line 8 → Thread.Sleep at line 8)"));

    [Fact]
    public Task ThroughACycle_TheChainEndsAtTheBlockingCall() => Verify.VerifyAsync(
        Usings + """
        class C
        {
            void M() => {|#0:Ping(3)|};
            void Ping(int n) { if (n > 0) {|BLK0001:Pong(n - 1)|}; }
            void Pong(int n) { {|BLK0001:Ping(n)|}; if (n == 0) {|BLK0001:Thread.Sleep(1)|}; }
        }
        """,
        new DiagnosticResult(BlockingProbeAnalyzer.Rule).WithLocation(0).WithArguments("'C.Ping(int)' (→ Pong → Thread.Sleep at line 7)"));

    [Fact]
    public async Task TheBlockingCallInAnotherFileIsNamedWithItsFile()
    {
        var test = Verify.CreateTest(Usings + """
            class C
            {
                void M(Store store) => {|#0:store.Save()|};
            }
            """);
        test.TestState.Sources.Add(("/0/Store.cs", Usings + """
            class Store
            {
                public void Save() => {|BLK0001:Thread.Sleep(1)|};
            }
            """));
        test.ExpectedDiagnostics.Add(new DiagnosticResult(BlockingProbeAnalyzer.Rule).WithLocation(0).WithArguments("'Store.Save()' (→ Thread.Sleep at Store.cs:5)"));
        await test.RunAsync();
    }
}
