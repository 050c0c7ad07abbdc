using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.Data;

namespace Platform.ControlPlane.Hosting;

internal static class DatabaseMigration
{
    /// <summary>Applies pending migrations when Platform:Database:MigrateOnStart is true (single-replica set-ups).</summary>
    public static async Task MigrateDatabaseIfConfiguredAsync(this WebApplication app)
    {
        if (!app.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value.MigrateOnStart)
        {
            return;
        }
        app.Logger.MigratingAtStart();
        await using var scope = app.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<PlatformDbContext>().Database.MigrateAsync(app.Lifetime.ApplicationStopping);
    }
}
