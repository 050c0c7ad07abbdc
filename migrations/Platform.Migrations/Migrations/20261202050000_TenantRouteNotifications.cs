using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Platform.Data;

#nullable disable

namespace Platform.Migrations.Migrations
{
    /// <summary>
    /// A tenant's quotas cap the limits in its apps' routes, and the tenants trigger logs those changes
    /// (RoutingDeltas), but only the apps table announced them on the routes channel: every replica but the writer
    /// learnt of a quota change only at the next app change. SQL only; the model is unchanged.
    /// </summary>
    [DbContext(typeof(PlatformDbContext))]
    [Migration("20261202050000_TenantRouteNotifications")]
    public partial class TenantRouteNotifications : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE TRIGGER tenants_routes_changed
                    AFTER UPDATE ON tenants
                    FOR EACH STATEMENT EXECUTE FUNCTION platform_notify_routes_changed();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS tenants_routes_changed ON tenants;");
        }
    }
}
