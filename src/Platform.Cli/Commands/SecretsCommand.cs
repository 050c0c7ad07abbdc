using System.CommandLine;
using Spectre.Console;

namespace Platform.Cli.Commands;

/// <summary>
/// <c>platform secrets APP list</c>, <c>platform secrets APP set NAME [--value V]</c> (else the value is read from
/// stdin, so it stays out of shell history and process lists), <c>platform secrets APP unset NAME</c>.
/// </summary>
internal static class SecretsCommand
{
    public static void AddTo(RootCommand root)
    {
        var app = new Argument<string>("APP") { Description = "The app" };
        var secrets = new Command("secrets", "An app's secrets: environment variables whose values are write-only and stored encrypted") { app };

        var json = Cli.JsonOption();
        var list = new Command("list", "List the app's secret names (values are never shown)") { json };
        list.Action(async (result, ct) =>
        {
            using var client = PlatformClient.FromSettings();
            var found = await client.ListSecretsAsync(result.GetValue(app)!, ct);
            if (result.GetValue(json))
            {
                Cli.PrintJson(found.Secrets);
                return;
            }
            var table = Cli.Table("NAME", "UPDATED");
            foreach (var s in found.Secrets)
            {
                table.AddRow(Cli.Cell(s.Name), Cli.Cell(s.UpdatedAt.ToString("u")));
            }
            AnsiConsole.Write(table);
        });

        var name = new Argument<string>("NAME") { Description = "The secret's name (letters, digits, '_')" };
        var value = new Option<string?>("--value") { Description = "The value; without it the value is read from stdin (one trailing newline is dropped)" };
        var set = new Command("set", "Set a secret (live within a second)") { name, value };
        set.Action(async (result, ct) =>
        {
            var secret = result.GetValue(value) ?? await ReadStdinAsync(ct);
            using var client = PlatformClient.FromSettings();
            var appName = result.GetValue(app)!;
            var created = await client.SetSecretAsync(appName, result.GetValue(name)!, secret, ct);
            Console.Out.WriteLine($"{appName}: secret '{result.GetValue(name)}' {(created ? "created" : "replaced")}");
        });

        var unsetName = new Argument<string>("NAME") { Description = "The secret to remove" };
        var unset = new Command("unset", "Remove a secret") { unsetName };
        unset.Action(async (result, ct) =>
        {
            using var client = PlatformClient.FromSettings();
            var appName = result.GetValue(app)!;
            await client.UnsetSecretAsync(appName, result.GetValue(unsetName)!, ct);
            Console.Out.WriteLine($"{appName}: secret '{result.GetValue(unsetName)}' removed");
        });

        secrets.Subcommands.Add(list);
        secrets.Subcommands.Add(set);
        secrets.Subcommands.Add(unset);
        root.Subcommands.Add(secrets);
    }

    private static async Task<string> ReadStdinAsync(CancellationToken ct)
    {
        if (!Console.IsInputRedirected)
        {
            Console.Error.Write("value (end with Ctrl-D): ");
        }
        var text = await Console.In.ReadToEndAsync(ct);
        // `echo value | platform secrets ...` adds a newline the value never had.
        return text.EndsWith("\r\n", StringComparison.Ordinal) ? text[..^2] : text.EndsWith('\n') ? text[..^1] : text;
    }
}
