// Runs the real dotnet CLI for the package tests: no telemetry, no build server or shared compiler left behind holding
// the analyzer DLLs, a timeout that kills the process tree, output and errors together.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading.Tasks;

namespace DmaBuf.Package.Tests;

/// <summary>Runs the real <c>dotnet</c> CLI in a folder, with a private NuGet packages folder.</summary>
internal sealed record DotNetResult(int ExitCode, string Output)
{
    public override string ToString() => $"exit code {ExitCode}:\n{Output}";
}

internal static class DotNet
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(8);

    public static async Task<DotNetResult> RunAsync(string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        // A build server started here would outlive the test and keep the analyzer DLLs of this run loaded.
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["UseSharedCompilation"] = "false";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start dotnet.");
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        Task exited = process.WaitForExitAsync();
        if (await Task.WhenAny(exited, Task.Delay(Timeout)) != exited)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(' ', arguments)} did not finish within {Timeout}.");
        }

        return new DotNetResult(process.ExitCode, await output + await error);
    }
}
