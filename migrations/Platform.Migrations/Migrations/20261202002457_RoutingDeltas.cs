using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Platform.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class RoutingDeltas : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "route_changes",
                columns: table => new
                {
                    Revision = table.Column<long>(type: "bigint", nullable: false),
                    AppName = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    Deleted = table.Column<bool>(type: "boolean", nullable: false),
                    ChangedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_route_changes", x => x.Revision);
                });

            migrationBuilder.CreateTable(
                name: "routing_state",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false),
                    Epoch = table.Column<Guid>(type: "uuid", nullable: false),
                    Revision = table.Column<long>(type: "bigint", nullable: false),
                    PrunedThrough = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_routing_state", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_route_changes_ChangedAt",
                table: "route_changes",
                column: "ChangedAt");

            // Every routing change is a change of an apps row (create, delete, activate, variables, limits, allowed
            // hosts, shares; versions are immutable), so a row trigger logs it in the writer's own transaction. The
            // UPDATE of routing_state takes that row's lock until commit: revisions are handed out in commit order,
            // so a reader that sees revision N sees every change up to N. Existing apps start as revision 1..n.
            migrationBuilder.Sql("""
                INSERT INTO routing_state ("Id", "Epoch", "Revision", "PrunedThrough") VALUES (1, gen_random_uuid(), 0, 0);
                INSERT INTO route_changes ("Revision", "AppName", "Deleted", "ChangedAt")
                    SELECT row_number() OVER (ORDER BY "Name"), "Name", false, now() FROM apps;
                UPDATE routing_state SET "Revision" = (SELECT count(*) FROM apps) WHERE "Id" = 1;

                CREATE FUNCTION platform_log_route_change() RETURNS trigger AS $$
                DECLARE
                    next_revision bigint;
                BEGIN
                    UPDATE routing_state SET "Revision" = "Revision" + 1 WHERE "Id" = 1 RETURNING "Revision" INTO next_revision;
                    IF TG_OP = 'DELETE' THEN
                        INSERT INTO route_changes ("Revision", "AppName", "Deleted", "ChangedAt") VALUES (next_revision, OLD."Name", true, now());
                    ELSE
                        INSERT INTO route_changes ("Revision", "AppName", "Deleted", "ChangedAt") VALUES (next_revision, NEW."Name", false, now());
                    END IF;
                    RETURN NULL;
                END;
                $$ LANGUAGE plpgsql;
                CREATE TRIGGER apps_route_change_log
                    AFTER INSERT OR DELETE ON apps
                    FOR EACH ROW EXECUTE FUNCTION platform_log_route_change();
                CREATE TRIGGER apps_route_change_log_update
                    AFTER UPDATE ON apps
                    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION platform_log_route_change();

                -- A tenant's quotas cap the limits in each of its apps' routes: a quota change is a change of them all.
                CREATE FUNCTION platform_log_tenant_change() RETURNS trigger AS $$
                DECLARE
                    app record;
                    next_revision bigint;
                BEGIN
                    FOR app IN SELECT "Name" FROM apps WHERE "TenantId" = NEW."Id" ORDER BY "Name" LOOP
                        UPDATE routing_state SET "Revision" = "Revision" + 1 WHERE "Id" = 1 RETURNING "Revision" INTO next_revision;
                        INSERT INTO route_changes ("Revision", "AppName", "Deleted", "ChangedAt") VALUES (next_revision, app."Name", false, now());
                    END LOOP;
                    RETURN NULL;
                END;
                $$ LANGUAGE plpgsql;
                CREATE TRIGGER tenants_route_change_log_update
                    AFTER UPDATE ON tenants
                    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION platform_log_tenant_change();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TRIGGER IF EXISTS apps_route_change_log ON apps;
                DROP TRIGGER IF EXISTS apps_route_change_log_update ON apps;
                DROP TRIGGER IF EXISTS tenants_route_change_log_update ON tenants;
                DROP FUNCTION IF EXISTS platform_log_route_change();
                DROP FUNCTION IF EXISTS platform_log_tenant_change();
                """);
            migrationBuilder.DropTable(
                name: "route_changes");

            migrationBuilder.DropTable(
                name: "routing_state");
        }
    }
}
