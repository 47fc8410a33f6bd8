using System;
using System.Collections.Generic;
using System.IO;
using System.Threading.Tasks;

namespace DmaBuf.Package.Tests;

/// <summary>
/// Packs DmaBuf.Analyzers and DmaBuf.Runtime into a local folder feed, with a version no cache has seen, and
/// restores a fresh consumer project from it into a private NuGet packages folder, so that a cached package of
/// the same version never hides a change.
/// </summary>
public sealed class PackageFixture : IAsyncLifetime
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "dmabuf-e2e-" + Guid.NewGuid().ToString("N"));

    public string Feed => Path.Combine(Root, "feed");

    public string Version { get; } = "0.1.0-e2e." + DateTime.UtcNow.ToString("yyyyMMddHHmmss") + "." + System.Environment.ProcessId;

    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["NUGET_PACKAGES"] = Path.Combine(Root, "packages"),
    };

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Feed);
        string repository = DmaBuf.Tests.Repository.Root();
        foreach (string project in new[] { "packaging/DmaBuf.Analyzers.Package.csproj", "runtime/DmaBuf.Runtime.csproj" })
        {
            // --artifacts-path keeps this Release build out of the bin and obj folders the other tests run from.
            // Packing restores from the machine's usual packages folder; only the consumer uses the private one.
            DotNetResult pack = await DotNet.RunAsync(
                repository,
                new Dictionary<string, string>(),
                "pack", Path.Combine(repository, project), "-c", "Release", "-o", Feed,
                "--artifacts-path", Path.Combine(Root, "artifacts"), "-p:Version=" + Version);
            if (pack.ExitCode != 0)
            {
                throw new InvalidOperationException($"Packing {project} failed with {pack}");
            }
        }
    }

    /// <summary>Creates a consumer project in a new folder that references DmaBuf.Runtime from the feed only.</summary>
    public string CreateConsumer(string name, string programSource)
    {
        string directory = Path.Combine(Root, name);
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "NuGet.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="e2e" value="{Feed}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(directory, name + ".csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="DmaBuf.Runtime" Version="{Version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(directory, "Program.cs"), programSource);
        return directory;
    }

    public Task DisposeAsync()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A temporary folder left behind is harmless.
        }

        return Task.CompletedTask;
    }
}
