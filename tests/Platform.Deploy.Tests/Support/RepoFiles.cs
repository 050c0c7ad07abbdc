using Platform.Testing;

namespace Platform.Deploy.Tests.Support;

/// <summary>The deployment files of this repository, read fresh for each test.</summary>
public static class RepoFiles
{
    public const string ComposeFile = "docker-compose.yml";
    public const string EnvExample = "deploy/compose/platform.env.example";

    public static string Read(string relativePath)
    {
        var path = RepoPaths.Combine(relativePath);
        return File.Exists(path) ? File.ReadAllText(path) : throw new FileNotFoundException($"Expected '{relativePath}' in the repository.", path);
    }

    public static string? TryRead(string relativePath)
    {
        var path = RepoPaths.Combine(relativePath);
        return File.Exists(path) ? File.ReadAllText(path) : null;
    }

    public static Dictionary<string, object?> Compose() => Yaml.LoadMapping(Read(ComposeFile), ComposeFile);

    public static DockerIgnore DockerIgnore() => new(Read(".dockerignore"));

    /// <summary>All compose checks against the repository's own env example and proxy configuration.</summary>
    public static IReadOnlyList<string> CheckCompose(Dictionary<string, object?> compose) => ComposeChecks.All(compose, Read(EnvExample), TryRead);
}
