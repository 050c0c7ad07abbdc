using System.CommandLine;
using Spectre.Console;

namespace Platform.Cli.Commands;

/// <summary><c>platform keys list|create|revoke</c>: admins manage every key, a full-access tenant key those of its tenant.</summary>
internal static class KeysCommands
{
    public static void AddTo(RootCommand root)
    {
        var keys = new Command("keys", "Manage API keys (an admin key, or a full-access key for its own tenant)");

        var json = Cli.JsonOption();
        var list = new Command("list", "List keys: names, prefixes, tenant and scope, never secrets") { json };
        list.Action(async (result, ct) =>
        {
            using var client = PlatformClient.FromSettings();
            var all = await client.ListKeysAsync(ct);
            if (result.GetValue(json))
            {
                Cli.PrintJson(all);
                return;
            }
            var table = Cli.Table("NAME", "PREFIX", "TENANT", "ACCESS", "APPS", "CREATED", "LAST USED");
            foreach (var k in all)
            {
                table.AddRow(Cli.Cell(k.Name), Cli.Cell(k.Prefix), k.Admin ? "(admin)" : Cli.Cell(k.Tenant), k.Admin ? "admin" : Cli.Cell(k.Access),
                    k.Apps is null ? "all" : Cli.Cell(string.Join(",", k.Apps)), Cli.Cell(k.CreatedAt), Cli.Cell(k.LastUsedAt));
            }
            AnsiConsole.Write(table);
        });

        var name = new Argument<string>("NAME") { Description = "A name for the key (1-100 printable characters)" };
        var admin = new Option<bool>("--admin") { Description = "An admin key: every tenant, tenants and keys too (admins only)" };
        var tenant = new Option<string?>("--tenant") { Description = "The key's tenant (default: yours; 'default' for an admin)" };
        var apps = new Option<string[]>("--app") { Description = "Only this app of the tenant (repeat for several)", AllowMultipleArgumentsPerToken = false };
        var access = new Option<string?>("--access") { Description = "full (default), deploy-only (upload and roll back) or read-only" };
        access.AcceptOnlyFromAmong("full", "deploy-only", "read-only");
        var createJson = Cli.JsonOption();
        var create = new Command("create", "Create a key; its secret is printed once, now") { name, admin, tenant, apps, access, createJson };
        create.Action(async (result, ct) =>
        {
            using var client = PlatformClient.FromSettings();
            var appList = result.GetValue(apps) is { Length: > 0 } given ? given : null;
            var key = await client.CreateKeyAsync(result.GetValue(name)!, result.GetValue(admin), result.GetValue(tenant), appList, result.GetValue(access), ct);
            if (result.GetValue(createJson))
            {
                Cli.PrintJson(key);
                return;
            }
            Console.Out.WriteLine(key.Key);
            var scope = key.Admin ? "admin" : $"tenant {key.Tenant}, {key.Access}{(key.Apps is null ? "" : ", apps " + string.Join(",", key.Apps))}";
            Console.Error.WriteLine($"Key '{key.Name}' ({scope}) created; it is shown only this once.");
        });

        var revokeName = new Argument<string>("NAME") { Description = "The key's name" };
        var revoke = new Command("revoke", "Revoke a key; it stops working at once") { revokeName };
        revoke.Action(async (result, ct) =>
        {
            using var client = PlatformClient.FromSettings();
            await client.RevokeKeyAsync(result.GetValue(revokeName)!, ct);
            Console.Out.WriteLine($"Key '{result.GetValue(revokeName)}' revoked");
        });

        keys.Subcommands.Add(list);
        keys.Subcommands.Add(create);
        keys.Subcommands.Add(revoke);
        root.Subcommands.Add(keys);
    }
}
