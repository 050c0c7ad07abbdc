using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Platform.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class Tenants : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "tenants",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    MaxApps = table.Column<int>(type: "integer", nullable: true),
                    MaxStoredBytes = table.Column<long>(type: "bigint", nullable: true),
                    MaxMemoryLimitMb = table.Column<int>(type: "integer", nullable: true),
                    MaxTimeoutSeconds = table.Column<int>(type: "integer", nullable: true),
                    MaxCpuTimeLimitMs = table.Column<int>(type: "integer", nullable: true),
                    MaxConcurrency = table.Column<int>(type: "integer", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_tenants", x => x.Id);
                });

            // Everything that existed before tenants belongs to the default tenant (Tenant.DefaultId).
            migrationBuilder.Sql("INSERT INTO tenants (\"Id\", \"Name\", \"CreatedAt\") VALUES ('00000000-0000-0000-0000-000000000001', 'default', now()) ON CONFLICT DO NOTHING;");

            migrationBuilder.AddColumn<Guid>(
                name: "TenantId",
                table: "apps",
                type: "uuid",
                nullable: false,
                defaultValue: new Guid("00000000-0000-0000-0000-000000000001"));

            migrationBuilder.AddColumn<string>(
                name: "Access",
                table: "api_keys",
                type: "character varying(16)",
                maxLength: 16,
                nullable: false,
                defaultValue: "full");

            migrationBuilder.AddColumn<List<string>>(
                name: "AppNames",
                table: "api_keys",
                type: "text[]",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "TenantId",
                table: "api_keys",
                type: "uuid",
                nullable: true);

            // The default only moved existing rows; new apps always name their tenant.
            migrationBuilder.Sql("ALTER TABLE apps ALTER COLUMN \"TenantId\" DROP DEFAULT;");
            migrationBuilder.Sql("UPDATE api_keys SET \"TenantId\" = '00000000-0000-0000-0000-000000000001' WHERE NOT \"IsAdmin\";");

            migrationBuilder.CreateIndex(
                name: "IX_apps_TenantId",
                table: "apps",
                column: "TenantId");

            migrationBuilder.CreateIndex(
                name: "IX_api_keys_TenantId",
                table: "api_keys",
                column: "TenantId");

            migrationBuilder.CreateIndex(
                name: "IX_tenants_Name",
                table: "tenants",
                column: "Name",
                unique: true);

            migrationBuilder.AddForeignKey(
                name: "FK_api_keys_tenants_TenantId",
                table: "api_keys",
                column: "TenantId",
                principalTable: "tenants",
                principalColumn: "Id",
                onDelete: ReferentialAction.Cascade);

            migrationBuilder.AddForeignKey(
                name: "FK_apps_tenants_TenantId",
                table: "apps",
                column: "TenantId",
                principalTable: "tenants",
                principalColumn: "Id",
                onDelete: ReferentialAction.Restrict);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_api_keys_tenants_TenantId",
                table: "api_keys");

            migrationBuilder.DropForeignKey(
                name: "FK_apps_tenants_TenantId",
                table: "apps");

            migrationBuilder.DropTable(
                name: "tenants");

            migrationBuilder.DropIndex(
                name: "IX_apps_TenantId",
                table: "apps");

            migrationBuilder.DropIndex(
                name: "IX_api_keys_TenantId",
                table: "api_keys");

            migrationBuilder.DropColumn(
                name: "TenantId",
                table: "apps");

            migrationBuilder.DropColumn(
                name: "Access",
                table: "api_keys");

            migrationBuilder.DropColumn(
                name: "AppNames",
                table: "api_keys");

            migrationBuilder.DropColumn(
                name: "TenantId",
                table: "api_keys");
        }
    }
}
