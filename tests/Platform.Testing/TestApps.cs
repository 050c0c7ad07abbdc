namespace Platform.Testing;

/// <summary>The Wasm test apps built by tests/apps/build.sh into tests/apps/out/NAME.wasm.</summary>
public static class TestApps
{
    public static string OutputDirectory => RepoPaths.Combine("tests", "apps", "out");

    /// <summary>Full path of tests/apps/out/<paramref name="name"/>.wasm; throws if it has not been built.</summary>
    public static string PathOf(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var path = Path.Combine(OutputDirectory, name + ".wasm");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"Test app '{name}' is not built: '{path}' does not exist. Run 'bash tests/apps/build.sh' from the repository root first.", path);
        }
        return path;
    }

    public static byte[] Bytes(string name) => File.ReadAllBytes(PathOf(name));

    /// <summary>An app name no other test uses: the stem and eight hex digits.</summary>
    public static string UniqueName(string stem) => $"{stem}-{Guid.NewGuid().ToString("N")[..8]}";
}
