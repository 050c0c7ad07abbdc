using System.CommandLine;
using Spectre.Console;

namespace Platform.Cli.Commands;

/// <summary><c>platform vars APP</c>, <c>platform vars APP set K=V ...</c>, <c>platform vars APP unset K ...</c>.</summary>
internal static class VarsCommand
{
    public static void AddTo(RootCommand root)
    {
        var app = new Argument<string>("APP") { Description = "The app" };
        var json = Cli.JsonOption();
        var vars = new Command("vars", "Show an app's environment variables; 'set K=V' or 'unset K' changes them (live within a second)") { app, json };
        vars.Action(async (result, ct) =>
        {
            using var client = PlatformClient.FromSettings();
            Print((await client.GetAppAsync(result.GetValue(app)!, ct)).Variables, result.GetValue(json));
        });

        var pairs = new Argument<string[]>("K=V") { Description = "Variables to set", Arity = ArgumentArity.OneOrMore };
        var set = new Command("set", "Set variables") { pairs };
        set.Action(async (result, ct) =>
        {
            var changes = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var pair in result.GetValue(pairs)!)
            {
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    throw new CliException($"'{pair}' is not NAME=VALUE");
                }
                changes[pair[..eq]] = pair[(eq + 1)..];
            }
            await ChangeAsync(result.GetValue(app)!, v =>
            {
                foreach (var (k, value) in changes)
                {
                    v[k] = value;
                }
            }, ct);
        });

        var names = new Argument<string[]>("K") { Description = "Variables to remove", Arity = ArgumentArity.OneOrMore };
        var unset = new Command("unset", "Remove variables") { names };
        unset.Action(async (result, ct) =>
        {
            var name = result.GetValue(app)!;
            await ChangeAsync(name, v =>
            {
                foreach (var k in result.GetValue(names)!)
                {
                    if (!v.Remove(k))
                    {
                        throw new CliException($"app '{name}' has no variable '{k}'");
                    }
                }
            }, ct);
        });

        vars.Subcommands.Add(set);
        vars.Subcommands.Add(unset);
        root.Subcommands.Add(vars);
    }

    private static async Task ChangeAsync(string app, Action<Dictionary<string, string>> change, CancellationToken ct)
    {
        using var client = PlatformClient.FromSettings();
        var variables = new Dictionary<string, string>((await client.GetAppAsync(app, ct)).Variables, StringComparer.Ordinal);
        change(variables);
        var updated = await client.UpdateVariablesAsync(app, variables, ct);
        Console.Out.WriteLine($"{updated.Name}: {updated.Variables.Count} variable(s)");
    }

    private static void Print(Dictionary<string, string> variables, bool json)
    {
        if (json)
        {
            Cli.PrintJson(variables);
            return;
        }
        var table = Cli.Table("NAME", "VALUE");
        foreach (var (k, v) in variables.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            table.AddRow(Cli.Cell(k), Cli.Cell(v));
        }
        AnsiConsole.Write(table);
    }
}
