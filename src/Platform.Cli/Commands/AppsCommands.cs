using System.CommandLine;
using Spectre.Console;

namespace Platform.Cli.Commands;

/// <summary><c>platform apps</c>, <c>platform versions APP</c>, <c>platform rollback APP [VERSION]</c>.</summary>
internal static class AppsCommands
{
    public static void AddTo(RootCommand root)
    {
        root.Subcommands.Add(Apps());
        root.Subcommands.Add(Versions());
        root.Subcommands.Add(Rollback());
    }

    private static Command Apps()
    {
        var json = Cli.JsonOption();
        var tenant = new Option<string?>("--tenant") { Description = "Admin keys: only this tenant's apps" };
        var command = new Command("apps", "List apps: URL, live version, last deploy, tenant") { json, tenant };
        command.Action(async (result, ct) =>
        {
            using var client = PlatformClient.FromSettings();
            var apps = await client.ListAppsAsync(result.GetValue(tenant), ct);
            if (result.GetValue(json))
            {
                Cli.PrintJson(apps);
                return;
            }
            var table = Cli.Table("NAME", "VERSION", "URL", "DEPLOYED", "TENANT");
            foreach (var a in apps)
            {
                table.AddRow(Cli.Cell(a.Name), Cli.Cell(a.ActiveVersion), Cli.Cell(a.Url), Cli.Cell(a.LastDeployedAt), Cli.Cell(a.Tenant));
            }
            AnsiConsole.Write(table);
        });
        return command;
    }

    private static Command Versions()
    {
        var app = new Argument<string>("APP") { Description = "The app" };
        var json = Cli.JsonOption();
        var command = new Command("versions", "List an app's versions, newest first; * marks the live one") { app, json };
        command.Action(async (result, ct) =>
        {
            using var client = PlatformClient.FromSettings();
            var versions = await client.ListVersionsAsync(result.GetValue(app)!, ct);
            if (result.GetValue(json))
            {
                Cli.PrintJson(versions);
                return;
            }
            var table = Cli.Table("", "VERSION", "DIGEST", "SIZE", "CREATED", "BY");
            foreach (var v in versions)
            {
                table.AddRow(v.Active ? "*" : "", Cli.Cell(v.Number), Cli.Cell(Cli.ShortDigest(v.Digest)), Cli.Cell(v.Size), Cli.Cell(v.CreatedAt), Cli.Cell(v.CreatedBy));
            }
            AnsiConsole.Write(table);
        });
        return command;
    }

    private static Command Rollback()
    {
        var app = new Argument<string>("APP") { Description = "The app" };
        var version = new Argument<int?>("VERSION") { Description = "The version to serve (default: the one before the live one)", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("rollback", "Serve another version of an app (default: the previous one); live within a second") { app, version };
        command.Action(async (result, ct) =>
        {
            var name = result.GetValue(app)!;
            using var client = PlatformClient.FromSettings();
            var target = result.GetValue(version);
            if (target is null)
            {
                var versions = await client.ListVersionsAsync(name, ct);
                var live = versions.FirstOrDefault(v => v.Active)
                    ?? throw new CliException($"app '{name}' serves no version; name one: platform rollback {name} VERSION");
                target = versions.Where(v => v.Number < live.Number).Select(v => (int?)v.Number).Max()
                    ?? throw new CliException($"app '{name}' has no version before {live.Number}");
            }
            var updated = await client.ActivateAsync(name, target.Value, ct);
            Console.Out.WriteLine($"{updated.Name} now serves version {updated.ActiveVersion} at {updated.Url}");
        });
        return command;
    }
}
