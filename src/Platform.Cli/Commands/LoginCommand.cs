using System.CommandLine;
using Spectre.Console;

namespace Platform.Cli.Commands;

/// <summary><c>platform login</c>: checks a URL and key against the API and saves them for later commands.</summary>
internal static class LoginCommand
{
    public static void AddTo(RootCommand root)
    {
        var url = new Option<string?>("--url") { Description = "The control plane's URL (default: PLATFORM_URL, the saved one, or http://127.0.0.1:5080)" };
        var key = new Option<string?>("--key") { Description = "An API key (default: PLATFORM_KEY, else asked for without echo)" };
        var command = new Command("login", "Save the platform's URL and an API key (in ~/.config/platform/config.json, mode 0600)") { url, key };
        command.Action(async (result, ct) =>
        {
            var saved = CliSettings.ReadSaved();
            var chosenUrl = (result.GetValue(url) ?? Env(CliSettings.UrlVariable) ?? saved?.Url ?? "http://127.0.0.1:5080").TrimEnd('/');
            if (!Uri.TryCreate(chosenUrl, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https"))
            {
                throw new CliException($"'{chosenUrl}' is not an http(s) URL");
            }
            var chosenKey = result.GetValue(key) ?? Env(CliSettings.KeyVariable);
            if (chosenKey is null)
            {
                if (Console.IsInputRedirected)
                {
                    chosenKey = Console.In.ReadLine()?.Trim();
                }
                else
                {
                    chosenKey = AnsiConsole.Prompt(new TextPrompt<string>("API key:").Secret());
                }
            }
            if (string.IsNullOrWhiteSpace(chosenKey))
            {
                throw new CliException("no API key given: pass --key, set PLATFORM_KEY or type it when asked");
            }
            var settings = new CliSettings(chosenUrl, chosenKey.Trim());
            using (var client = new PlatformClient(settings, TimeSpan.FromSeconds(15)))
            {
                // Proves both the URL and the key before anything is saved.
                await client.ListAppsAsync(ct);
            }
            settings.Save();
            Console.Out.WriteLine($"Logged in to {chosenUrl}; saved in {CliSettings.FilePath}");
        });
        root.Subcommands.Add(command);
    }

    private static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
}
