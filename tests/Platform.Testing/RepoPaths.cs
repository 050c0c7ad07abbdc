namespace Platform.Testing;

/// <summary>Locates files of this repository from a test's output folder.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> s_root = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Platform.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException($"No Platform.sln above '{AppContext.BaseDirectory}'.");
    });

    public static string Root => s_root.Value;

    public static string Combine(params string[] parts) => Path.Combine([Root, .. parts]);

    /// <summary>Build configuration of the running test assembly (Debug or Release), used to find sibling outputs.</summary>
    public static string Configuration =>
#if DEBUG
        "Debug";
#else
        "Release";
#endif
}
