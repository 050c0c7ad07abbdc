using System.CommandLine;
using Spectre.Console;

namespace Platform.Cli.Commands;

/// <summary><c>platform keys list|create|revoke</c> (admin keys only).</summary>
internal static class KeysCommands
{
    public static void AddTo(RootCommand root)
    {
        var keys = new Command("keys", "Manage API keys (needs an admin key)");

        var json = Cli.JsonOption();
        var list = new Command("list", "List keys: names and prefixes, never secrets") { json };
        list.Action(async (result, ct) =>
        {
            using var client = PlatformClient.FromSettings();
            var all = await client.ListKeysAsync(ct);
            if (result.GetValue(json))
            {
                Cli.PrintJson(all);
                return;
            }
            var table = Cli.Table("NAME", "PREFIX", "ADMIN", "CREATED", "LAST USED");
            foreach (var k in all)
            {
                table.AddRow(Cli.Cell(k.Name), Cli.Cell(k.Prefix), k.Admin ? "yes" : "no", Cli.Cell(k.CreatedAt), Cli.Cell(k.LastUsedAt));
            }
            AnsiConsole.Write(table);
        });

        var name = new Argument<string>("NAME") { Description = "A name for the key (1-100 printable characters)" };
        var admin = new Option<bool>("--admin") { Description = "The key may manage keys too" };
        var createJson = Cli.JsonOption();
        var create = new Command("create", "Create a key; its secret is printed once, now") { name, admin, createJson };
        create.Action(async (result, ct) =>
        {
            using var client = PlatformClient.FromSettings();
            var key = await client.CreateKeyAsync(result.GetValue(name)!, result.GetValue(admin), ct);
            if (result.GetValue(createJson))
            {
                Cli.PrintJson(key);
                return;
            }
            Console.Out.WriteLine(key.Key);
            Console.Error.WriteLine($"Key '{key.Name}' created; it is shown only this once.");
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
