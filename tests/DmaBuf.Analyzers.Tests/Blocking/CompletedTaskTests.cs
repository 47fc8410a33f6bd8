// Result and GetResult on a task known to have completed on every path (a completion test, a status, a helper of the
// compilation, an await) do not block; on a task not tested, tested on one path, replaced, or another, they may.
using System.Threading.Tasks;
using Verify = DmaBuf.Analyzers.Tests.AnalyzerVerifier<DmaBuf.Analyzers.Tests.Blocking.BlockingProbeAnalyzer>;

namespace DmaBuf.Analyzers.Tests.Blocking;

/// <summary>
/// <c>task.Result</c> and <c>GetAwaiter().GetResult()</c> on a task that has completed on every path that reaches them
/// (tested with IsCompleted, IsCompletedSuccessfully, IsFaulted, IsCanceled, Status, or a helper of the compilation
/// that returns one of these; or awaited) do not block.
/// </summary>
/// <remarks>
/// Deliberately silent, and why: the result of a task after <c>if (!t.IsCompleted) return …;</c>, inside
/// <c>if (t.IsCompletedSuccessfully)</c> or a conditional on it, after <c>await t</c>, after
/// <c>t.Status == TaskStatus.RanToCompletion</c>, after a helper <c>IsDone(this Task t) =&gt; t.IsCompleted</c>, in a
/// <c>finally</c> entered after the test, in a helper given a task its caller tested: the task has completed, so
/// reading its result only returns it (or throws).
/// </remarks>
public sealed class CompletedTaskTests
{
    private const string Usings = """
        using System;
        using System.Runtime.CompilerServices;
        using System.Threading.Tasks;

        static class TaskChecks
        {
            public static bool IsDone(this Task task) => task.IsCompletedSuccessfully;
        }

        """;

    // ---- Valid ----------------------------------------------------------------------------------------------------

    [Fact]
    public Task Valid_ResultAfterACompletionTestOrAnAwait() => Verify.VerifyAsync(Usings + """
        class C
        {
            private readonly Task<int> _pending = Task.FromResult(1);

            int Early(Task<int> t)
            {
                if (!t.IsCompleted)
                {
                    return -1;
                }

                return t.Result;
            }

            int Inside(Task<int> t) => t.IsCompletedSuccessfully ? t.Result : 0;

            int Awaiter(ValueTask<int> t)
            {
                if (t.IsCompleted)
                {
                    return t.GetAwaiter().GetResult();
                }

                return 0;
            }

            int Status(Task<int> t) => t.Status == TaskStatus.RanToCompletion ? t.ConfigureAwait(false).GetAwaiter().GetResult() : 0;

            int Helper(Task<int> t)
            {
                if (!t.IsDone())
                {
                    throw new InvalidOperationException();
                }

                return t.Result;
            }

            int Field() => _pending.IsCompleted ? _pending.Result : 0;

            async Task<int> Awaited(Task<int> t)
            {
                {|BLK0001:await t|};
                return t.Result;
            }

            int Finally(Task<int> t)
            {
                if (!t.IsFaulted && !t.IsCanceled && !t.IsCompleted)
                {
                    return 0;
                }

                try
                {
                    return 1;
                }
                finally
                {
                    _ = t.Result;
                }
            }
        }
        """);

    // ---- Reported -------------------------------------------------------------------------------------------------

    [Fact]
    public Task Reported_ResultOfATaskNotKnownToHaveCompleted() => Verify.VerifyAsync(Usings + """
        class C
        {
            int NoTest(Task<int> t) => {|BLK0001:t.Result|};

            int OtherTask(Task<int> t, Task<int> u) => t.IsCompleted ? {|BLK0001:u.Result|} : 0;

            int WrongBranch(Task<int> t) => t.IsCompleted ? 0 : {|BLK0001:t.Result|};

            int Reassigned(Task<int> t, Func<Task<int>> next)
            {
                if (!t.IsCompleted)
                {
                    return 0;
                }

                t = next();
                return {|BLK0001:t.Result|};
            }

            int OnOnePathOnly(Task<int> t, bool flag)
            {
                if (flag && !t.IsCompleted)
                {
                    return 0;
                }

                return {|BLK0001:t.GetAwaiter().GetResult()|};
            }

            void Waits(Task t)
            {
                if (t.IsCompleted)
                {
                    return;
                }

                {|BLK0001:t.Wait()|};
            }
        }
        """);

    [Fact]
    public Task HelperThatReadsTheResultOfATaskItIsGiven_DependsOnTheCallersTest() => Verify.VerifyAsync(Usings + """
        class C
        {
            static int Read(Task<int> t) => {|BLK0001:t.Result|};
            static int Relay(Task<int> t) => {|BLK0001:Read(t)|};

            int Tested(Task<int> t) => t.IsCompleted ? Relay(t) : 0;

            int Untested(Task<int> t) => {|BLK0001:Relay(t)|};
        }
        """);
}
