// Packs the runtime (and the analyzer package with it) once for a fork's address and a fresh version into a local feed,
// and makes consumer projects that restore from it into a private packages folder.
using System;
using System.Collections.Generic;
using System.IO;
using System.Threading.Tasks;

namespace DmaBuf.Package.Tests;

/// <summary>
/// Packs DmaBuf.Runtime on its own (which packs DmaBuf.Analyzers beside it) into a local folder feed, with a version
/// no cache has seen, as a CI build for a fork's repository address; and restores a fresh consumer project from it
/// into a private NuGet packages folder, so that a cached package of the same version never hides a change.
/// </summary>
public sealed class PackageFixture : IAsyncLifetime
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "dmabuf-e2e-" + Guid.NewGuid().ToString("N"));

    public string Feed => Path.Combine(Root, "feed");

    public string Version { get; } = "0.1.0-e2e." + DateTime.UtcNow.ToString("yyyyMMddHHmmss") + "." + System.Environment.ProcessId;

    /// <summary>The repository address the packages are built for (DmaBufRepositoryUrl): a fork's, not the default.</summary>
    public string RepositoryUrl { get; } = "https://github.com/example-fork/dmabuf-for-dotnet";

    /// <summary>Where every documentation link of the packages starts.</summary>
    public string DocsUrl => RepositoryUrl + "/blob/main/";

    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["NUGET_PACKAGES"] = Path.Combine(Root, "packages"),
    };

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Feed);
        string repository = DmaBuf.Tests.Repository.Root();
        // Only the runtime is packed: packing it on its own must give the analyzer package of the same version too.
        // --artifacts-path keeps this Release build out of the bin and obj folders the other tests run from.
        // Packing restores from the machine's usual packages folder; only the consumer uses the private one.
        DotNetResult pack = await DotNet.RunAsync(
            repository,
            new Dictionary<string, string>(),
            "pack", Path.Combine(repository, "runtime/DmaBuf.Runtime.csproj"), "-c", "Release", "-o", Feed,
            "--artifacts-path", Path.Combine(Root, "artifacts"), "-p:Version=" + Version,
            "-p:ContinuousIntegrationBuild=true", "-p:DmaBufRepositoryUrl=" + RepositoryUrl);
        if (pack.ExitCode != 0)
        {
            throw new InvalidOperationException($"Packing DmaBuf.Runtime failed with {pack}");
        }
    }

    /// <summary>Creates a consumer project in a new folder that references DmaBuf.Runtime from the feed only.</summary>
    /// <param name="name">The project's name and folder.</param>
    /// <param name="programSource">Program.cs.</param>
    /// <param name="properties">More MSBuild properties of the project.</param>
    /// <param name="withNuGetOrg">Whether packages other than DmaBuf.* may come from nuget.org (a runtime pack).</param>
    public string CreateConsumer(string name, string programSource, string properties = "", bool withNuGetOrg = false)
    {
        string directory = Path.Combine(Root, name);
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "NuGet.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="e2e" value="{Feed}" />
                {(withNuGetOrg ? "<add key=\"nuget.org\" value=\"https://api.nuget.org/v3/index.json\" />" : "")}
              </packageSources>
              <packageSourceMapping>
                <packageSource key="e2e"><package pattern="DmaBuf.*" /></packageSource>
                {(withNuGetOrg ? "<packageSource key=\"nuget.org\"><package pattern=\"*\" /></packageSource>" : "")}
              </packageSourceMapping>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(directory, name + ".csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                {properties}
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

/// <summary>The test classes that share one pack of the packages (packing takes the better part of a minute).</summary>
[CollectionDefinition(nameof(PackedPackages))]
public sealed class PackedPackages : ICollectionFixture<PackageFixture>
{
}
