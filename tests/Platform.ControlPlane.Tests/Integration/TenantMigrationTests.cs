using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;
using Platform.Data;

namespace Platform.ControlPlane.Tests.Integration;

[Collection(ControlPlaneCollection.Name)]
[Trait("Category", "Integration")]
public sealed class TenantMigrationTests(ControlPlaneFixture fixture)
{
    [Fact]
    public async Task Apps_and_keys_that_existed_before_tenants_move_into_the_default_tenant()
    {
        var connectionString = await fixture.Postgres.CreateDatabaseAsync();
        await using (var db = new PlatformDbContext(DataServiceCollectionExtensions.CreateOptions(connectionString)))
        {
            // The schema as it was just before the tenants migration, with data in it.
            await db.GetService<IMigrator>().MigrateAsync("20261201224813_AppFairShares");
        }
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            await using var insert = new NpgsqlCommand("""
                INSERT INTO apps ("Id", "Name", "CreatedAt", "UpdatedAt", "Variables") VALUES (gen_random_uuid(), 'old-app', now(), now(), '{}');
                INSERT INTO api_keys ("Id", "Name", "Prefix", "Hash", "IsAdmin", "CreatedAt") VALUES (gen_random_uuid(), 'old-user', 'wpk_a', repeat('a', 64), false, now());
                INSERT INTO api_keys ("Id", "Name", "Prefix", "Hash", "IsAdmin", "CreatedAt") VALUES (gen_random_uuid(), 'old-admin', 'wpk_b', repeat('b', 64), true, now());
                """, connection);
            await insert.ExecuteNonQueryAsync();
        }
        await using (var db = new PlatformDbContext(DataServiceCollectionExtensions.CreateOptions(connectionString)))
        {
            await db.Database.MigrateAsync();
            var app = await db.Apps.Include(a => a.Tenant).SingleAsync(a => a.Name == "old-app");
            Assert.Equal(Tenant.DefaultId, app.TenantId);
            Assert.Equal(Tenant.DefaultName, app.Tenant!.Name);
            var user = await db.ApiKeys.SingleAsync(k => k.Name == "old-user");
            Assert.Equal(Tenant.DefaultId, user.TenantId);
            Assert.Equal("full", user.Access);
            Assert.Null(user.AppNames);
            Assert.Null((await db.ApiKeys.SingleAsync(k => k.Name == "old-admin")).TenantId);
            // A new app must name its tenant: the column kept no default.
            await Assert.ThrowsAsync<PostgresException>(async () =>
                await db.Database.ExecuteSqlRawAsync("""INSERT INTO apps ("Id", "Name", "CreatedAt", "UpdatedAt", "Variables") VALUES (gen_random_uuid(), 'new-app', now(), now(), '{{}}')"""));
        }
    }
}
