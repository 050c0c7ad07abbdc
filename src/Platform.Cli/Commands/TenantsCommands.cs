using System.CommandLine;
using Spectre.Console;

namespace Platform.Cli.Commands;

/// <summary><c>platform tenants list|create NAME|delete NAME</c> (admin key).</summary>
internal static class TenantsCommands
{
    public static void AddTo(RootCommand root)
    {
        var tenants = new Command("tenants", "Manage tenants and their quotas (needs an admin key)");

        var json = Cli.JsonOption();
        var list = new Command("list", "List tenants with their quotas and usage") { json };
        list.Action(async (result, ct) =>
        {
            using var client = PlatformClient.FromSettings();
            var all = await client.ListTenantsAsync(ct);
            if (result.GetValue(json))
            {
                Cli.PrintJson(all);
                return;
            }
            var table = Cli.Table("NAME", "APPS", "STORED BYTES", "KEYS", "QUOTAS", "CREATED");
            foreach (var t in all)
            {
                table.AddRow(Cli.Cell(t.Name), Cli.Cell(Of(t.Usage.Apps, t.Quotas.MaxApps)), Cli.Cell(Of(t.Usage.StoredBytes, t.Quotas.MaxStoredBytes)),
                    Cli.Cell(t.Usage.Keys), Cli.Cell(Limits(t.Quotas)), Cli.Cell(t.CreatedAt));
            }
            AnsiConsole.Write(table);
        });

        var name = new Argument<string>("NAME") { Description = "Tenant name: lower-case letters, digits and '-'" };
        var quotaOptions = new (Option<long?> Option, string Field)[]
        {
            (new Option<long?>("--max-apps") { Description = "Apps the tenant may have" }, "maxApps"),
            (new Option<long?>("--max-stored-bytes") { Description = "Bytes all versions of all its apps may take" }, "maxStoredBytes"),
            (new Option<long?>("--max-memory-mb") { Description = "Highest memoryLimitMb an app may ask for" }, "maxMemoryLimitMb"),
            (new Option<long?>("--max-timeout-seconds") { Description = "Highest timeoutSeconds an app may ask for" }, "maxTimeoutSeconds"),
            (new Option<long?>("--max-cpu-ms") { Description = "Highest cpuTimeLimitMs an app may ask for" }, "maxCpuTimeLimitMs"),
            (new Option<long?>("--max-concurrency") { Description = "Highest maxConcurrency an app may have" }, "maxConcurrency"),
        };
        var createJson = Cli.JsonOption();
        var create = new Command("create", "Create a tenant, optionally with quotas (unlimited when left out)") { name, createJson };
        foreach (var (option, _) in quotaOptions)
        {
            create.Options.Add(option);
        }
        create.Action(async (result, ct) =>
        {
            using var client = PlatformClient.FromSettings();
            var quotas = new Dictionary<string, long>();
            foreach (var (option, field) in quotaOptions)
            {
                if (result.GetValue(option) is { } v)
                {
                    quotas[field] = v;
                }
            }
            var tenant = await client.CreateTenantAsync(result.GetValue(name)!, quotas, ct);
            if (result.GetValue(createJson))
            {
                Cli.PrintJson(tenant);
                return;
            }
            Console.Out.WriteLine($"Tenant '{tenant.Name}' created ({Limits(tenant.Quotas)})");
        });

        var deleteName = new Argument<string>("NAME") { Description = "The tenant's name" };
        var delete = new Command("delete", "Delete a tenant that has no apps; its keys stop working") { deleteName };
        delete.Action(async (result, ct) =>
        {
            using var client = PlatformClient.FromSettings();
            await client.DeleteTenantAsync(result.GetValue(deleteName)!, ct);
            Console.Out.WriteLine($"Tenant '{result.GetValue(deleteName)}' deleted");
        });

        tenants.Subcommands.Add(list);
        tenants.Subcommands.Add(create);
        tenants.Subcommands.Add(delete);
        root.Subcommands.Add(tenants);
    }

    private static string Of(long used, long? max) => max is null ? $"{used}" : $"{used}/{max}";

    private static string Limits(TenantQuotas q)
    {
        var parts = new List<string>();
        void Add(string label, long? v)
        {
            if (v is not null)
            {
                parts.Add($"{label}={v}");
            }
        }
        Add("apps", q.MaxApps);
        Add("bytes", q.MaxStoredBytes);
        Add("memoryMb", q.MaxMemoryLimitMb);
        Add("timeoutS", q.MaxTimeoutSeconds);
        Add("cpuMs", q.MaxCpuTimeLimitMs);
        Add("concurrency", q.MaxConcurrency);
        return parts.Count == 0 ? "unlimited" : string.Join(" ", parts);
    }
}
