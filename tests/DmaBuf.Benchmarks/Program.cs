using BenchmarkDotNet.Running;

namespace DmaBuf.Benchmarks;

/// <summary>Runs the benchmarks: <c>dotnet run -c Release --project tests/DmaBuf.Benchmarks -- --filter '*'</c>.</summary>
public static class Program
{
    /// <summary>Entry point; the arguments go to BenchmarkDotNet's switcher.</summary>
    /// <param name="args">BenchmarkDotNet arguments, for example <c>--filter *Kmap*</c>.</param>
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
