using System.Text.Json;

namespace Platform.Cli;

/// <summary>
/// Where the platform is and the key to it: saved by <c>platform login</c> in ~/.config/platform/config.json (mode
/// 0600); PLATFORM_URL and PLATFORM_KEY override it.
/// </summary>
internal sealed record CliSettings(string Url, string Key)
{
    public const string UrlVariable = "PLATFORM_URL";
    public const string KeyVariable = "PLATFORM_KEY";

    public static string Directory
    {
        get
        {
            var xdg = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME");
            var config = string.IsNullOrEmpty(xdg) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config") : xdg;
            return Path.Combine(config, "platform");
        }
    }

    public static string FilePath => Path.Combine(Directory, "config.json");

    /// <summary>The settings in force, or an error that says how to log in.</summary>
    public static CliSettings Load()
    {
        var saved = ReadSaved();
        var url = Environment.GetEnvironmentVariable(UrlVariable) is { Length: > 0 } u ? u : saved?.Url;
        var key = Environment.GetEnvironmentVariable(KeyVariable) is { Length: > 0 } k ? k : saved?.Key;
        if (string.IsNullOrEmpty(url) || string.IsNullOrEmpty(key))
        {
            throw new CliException($"not logged in: run 'platform login' (or set {UrlVariable} and {KeyVariable})");
        }
        return new CliSettings(url.TrimEnd('/'), key);
    }

    public static CliSettings? ReadSaved()
    {
        if (!File.Exists(FilePath))
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize<CliSettings>(File.ReadAllText(FilePath), Cli.Json);
        }
        catch (JsonException ex)
        {
            throw new CliException($"{FilePath} is not valid JSON ({ex.Message}); run 'platform login' again");
        }
    }

    /// <summary>Writes the file readable by its owner only; the key is a secret.</summary>
    public void Save()
    {
        var dir = System.IO.Directory.CreateDirectory(Directory);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(dir.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var temp = FilePath + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var stream = new FileStream(temp, options))
        {
            JsonSerializer.Serialize(stream, this, Cli.Json);
        }
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        File.Move(temp, FilePath, overwrite: true);
    }
}
