// Finds the checkout's root (the folder of DmaBufAnalyzers.sln, searched upwards from the test assembly) for the test
// projects that read or build its files.
using System;
using System.IO;

namespace DmaBuf.Tests;

/// <summary>Finds the checkout the tests run from (shared by the test projects that read or build its files).</summary>
internal static class Repository
{
    /// <summary>The folder that holds DmaBufAnalyzers.sln, searched upwards from the test assembly.</summary>
    /// <returns>The repository's root folder.</returns>
    public static string Root()
    {
        string? directory = AppContext.BaseDirectory;
        while (directory is not null && !File.Exists(Path.Combine(directory, "DmaBufAnalyzers.sln")))
        {
            directory = Path.GetDirectoryName(directory);
        }

        return directory ?? throw new InvalidOperationException("DmaBufAnalyzers.sln not found above " + AppContext.BaseDirectory);
    }
}
