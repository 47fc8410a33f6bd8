// Runs a test scenario in a child process: the test assembly started again with `dotnet`, its own Main (below) calling
// one static method. Scenarios that may crash the process when the runtime is wrong (memory safety), that may
// deadlock, that need the validator off (the suite runs with it on, and the setting is read once per process), or that
// need a memory limit run here, so that a failure fails one test instead of the whole test run.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Reflection;
using System.Threading.Tasks;

namespace DmaBuf.Runtime.Tests;

/// <summary>Starts scenarios in child processes and checks that they passed.</summary>
internal static class ChildProcess
{
    /// <summary>The environment variable that tells a child whether to turn the validator on (<c>1</c>) or off (<c>0</c>).</summary>
    public const string ValidatorVariable = "DMABUF_TEST_CHILD_VALIDATION";

    private const string ScenarioArgument = "--scenario";
    private const string PassedLine = "scenario passed: ";

    /// <summary>
    /// Runs the static parameterless method <paramref name="method"/> of <typeparamref name="T"/> in a child
    /// process with the validator on or off, and fails with the child's output unless it returned normally.
    /// </summary>
    /// <typeparam name="T">The class that declares the scenario.</typeparam>
    /// <param name="method">The scenario's name (use <c>nameof</c>).</param>
    /// <param name="validator">Whether the child runs with the validator on.</param>
    /// <param name="environment">More environment variables for the child (for example a GC heap limit).</param>
    /// <param name="timeoutSeconds">How long the child may take before it is killed and the test fails (a deadlock shows here).</param>
    public static void Run<T>(string method, bool validator, IReadOnlyDictionary<string, string>? environment = null, int timeoutSeconds = 180)
    {
        string scenario = typeof(T).FullName + "." + method;
        var start = new ProcessStartInfo(DotNetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(typeof(ChildProcess).Assembly.Location);
        start.ArgumentList.Add(ScenarioArgument);
        start.ArgumentList.Add(scenario);
        start.Environment[ValidatorVariable] = validator ? "1" : "0";
        start.Environment.Remove(DmaBufValidation.EnvironmentVariableName);
        foreach (KeyValuePair<string, string> variable in environment ?? new Dictionary<string, string>())
        {
            start.Environment[variable.Key] = variable.Value;
        }

        using Process process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the child process.");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        bool exited = process.WaitForExit(timeoutSeconds * 1000);
        if (!exited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }

        string output = $"stdout:\n{stdout.Result}\nstderr:\n{stderr.Result}";
        Assert.True(exited, $"{scenario} (validator {(validator ? "on" : "off")}) did not finish within {timeoutSeconds} s (a deadlock?) and was killed.\n{output}");
        Assert.True(
            process.ExitCode == 0 && stdout.Result.Contains(PassedLine + scenario, StringComparison.Ordinal),
            $"{scenario} (validator {(validator ? "on" : "off")}) failed in its child process with exit code {process.ExitCode}.\n{output}");
    }

    /// <summary>The child's side: runs the scenario named on the command line; exit code 0 only if it returned normally.</summary>
    /// <param name="args"><c>--scenario Namespace.Type.Method</c>.</param>
    /// <returns>The exit code.</returns>
    internal static int RunScenario(string[] args)
    {
        if (args.Length != 2 || args[0] != ScenarioArgument)
        {
            Console.Error.WriteLine($"usage: dotnet DmaBuf.Runtime.Tests.dll {ScenarioArgument} Namespace.Type.Method");
            return 2;
        }

        string name = args[1];
        int dot = name.LastIndexOf('.');
        Type? type = typeof(ChildProcess).Assembly.GetType(name[..dot]);
        MethodInfo? method = type?.GetMethod(name[(dot + 1)..], BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static, Type.EmptyTypes);
        if (method is null)
        {
            Console.Error.WriteLine($"no static parameterless method {name}");
            return 2;
        }

        Console.WriteLine($"validator {(DmaBufValidation.IsEnabled ? "on" : "off")}");
        try
        {
            method.Invoke(null, null);
        }
        catch (TargetInvocationException e)
        {
            Console.Error.WriteLine(e.InnerException);
            return 1;
        }

        Console.WriteLine(PassedLine + name);
        return 0;
    }

    private static string DotNetHost()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host))
        {
            return host;
        }

        string? current = Environment.ProcessPath;
        return current is not null && System.IO.Path.GetFileNameWithoutExtension(current) == "dotnet" ? current : "dotnet";
    }
}

/// <summary>The test assembly's entry point, used only when a test starts it as a child process.</summary>
public static class Program
{
    /// <summary>Runs one scenario (see <see cref="ChildProcess"/>).</summary>
    /// <param name="args">The scenario to run.</param>
    /// <returns>0 when the scenario passed.</returns>
    public static int Main(string[] args) => ChildProcess.RunScenario(args);
}

/// <summary>The validator settings a memory-safety theory runs under: off and on.</summary>
public static class ValidatorModes
{
    /// <summary>Off, then on.</summary>
    public static TheoryData<bool> OffAndOn => new() { false, true };
}
