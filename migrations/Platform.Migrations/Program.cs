using Microsoft.EntityFrameworkCore;
using Platform.Data;

namespace Platform.Migrations;

/// <summary>
/// The migration runner: applies every pending migration and exits. Used by `deploy/platform.sh`, the compose
/// "migrations" service and the Kubernetes Job, so schema changes run once, before new code starts.
/// </summary>
internal static class MigrationRunner
{
    private static async Task<int> Main()
    {
        var connectionString = Environment.GetEnvironmentVariable("Platform__Database__ConnectionString");
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            Console.Error.WriteLine("Platform__Database__ConnectionString is not set; nothing to migrate.");
            return 2;
        }

        await using var db = new PlatformDbContext(DataServiceCollectionExtensions.CreateOptions(connectionString));
        var pending = (await db.Database.GetPendingMigrationsAsync()).ToList();
        Console.WriteLine(pending.Count == 0 ? "Database is up to date." : $"Applying {pending.Count} migration(s): {string.Join(", ", pending)}");
        await db.Database.MigrateAsync();
        Console.WriteLine("Migrations applied.");
        return 0;
    }
}
