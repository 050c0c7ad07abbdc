using System.Text.Json;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;

namespace Platform.Data;

public sealed class PlatformDbContext(DbContextOptions<PlatformDbContext> options) : DbContext(options), IDataProtectionKeyContext
{
    /// <summary>PostgreSQL channel a change to the routing table is announced on (LISTEN/NOTIFY).</summary>
    public const string RoutesChangedChannel = "platform_routes_changed";

    /// <summary>PostgreSQL channel new app log lines are announced on; the payload is the app's id.</summary>
    public const string LogsAppendedChannel = "platform_logs_appended";

    public const string MigrationsAssembly = "Platform.Migrations";

    public DbSet<App> Apps => Set<App>();
    public DbSet<AppVersion> AppVersions => Set<AppVersion>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<Tenant> Tenants => Set<Tenant>();
    public DbSet<RequestStat> RequestStats => Set<RequestStat>();
    public DbSet<AppLogEntry> AppLogs => Set<AppLogEntry>();
    public DbSet<RouteChange> RouteChanges => Set<RouteChange>();
    public DbSet<RoutingState> RoutingState => Set<RoutingState>();
    public DbSet<AppSecret> AppSecrets => Set<AppSecret>();

    /// <summary>The ASP.NET Core Data Protection key ring (what app secrets are encrypted with).</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    protected override void OnModelCreating(ModelBuilder b)
    {
        b.Entity<App>(e =>
        {
            e.ToTable("apps");
            e.HasKey(a => a.Id);
            e.Property(a => a.Name).HasMaxLength(63).IsRequired();
            e.HasIndex(a => a.Name).IsUnique();
            // Stored as one jsonb document; the comparer lets EF see changes inside the dictionary.
            e.Property(a => a.Variables)
                .HasColumnType("jsonb")
                .HasConversion(
                    v => JsonSerializer.Serialize(v, JsonSerializerOptions.Default),
                    s => JsonSerializer.Deserialize<Dictionary<string, string>>(s, JsonSerializerOptions.Default) ?? new Dictionary<string, string>(),
                    new ValueComparer<Dictionary<string, string>>(
                        (a, b) => a!.Count == b!.Count && !a.Except(b).Any(),
                        v => v.Aggregate(0, (h, kv) => HashCode.Combine(h, kv.Key.GetHashCode(), kv.Value.GetHashCode())),
                        v => new Dictionary<string, string>(v)));
            e.Property(a => a.AllowedOutboundHosts).HasDefaultValueSql("'{}'::text[]");
            // An app outlives no tenant: a tenant with apps cannot be deleted (the API says so first).
            e.HasOne(a => a.Tenant).WithMany().HasForeignKey(a => a.TenantId).OnDelete(DeleteBehavior.Restrict);
            e.HasIndex(a => a.TenantId);
            e.HasMany(a => a.Versions).WithOne(v => v.App).HasForeignKey(v => v.AppId).OnDelete(DeleteBehavior.Cascade);
        });
        b.Entity<AppVersion>(e =>
        {
            e.ToTable("app_versions");
            e.HasKey(v => v.Id);
            e.HasIndex(v => new { v.AppId, v.Number }).IsUnique();
            e.Property(v => v.ModuleDigest).HasMaxLength(71).IsRequired();
            e.Property(v => v.ManifestDigest).HasMaxLength(71).IsRequired();
            e.Property(v => v.Repository).HasMaxLength(256).IsRequired();
            e.Property(v => v.OciReference).HasMaxLength(512).IsRequired();
            e.Property(v => v.CreatedBy).HasMaxLength(100);
            e.Property(v => v.PrecompiledReference).HasMaxLength(512);
            e.Property(v => v.PrecompiledFingerprint).HasMaxLength(128);
            // Written once at upload and never changed, so no comparer beyond reference equality is needed.
            e.Property(v => v.Bundle)
                .HasColumnType("jsonb")
                .HasConversion(
                    b => b == null ? null : JsonSerializer.Serialize(b, JsonSerializerOptions.Default),
                    s => s == null ? null : JsonSerializer.Deserialize<VersionBundle>(s, JsonSerializerOptions.Default),
                    new ValueComparer<VersionBundle?>((a, b) => ReferenceEquals(a, b), b => b == null ? 0 : b.GetHashCode(), b => b));
            e.Property(v => v.SpinManifest).HasColumnType("text");
        });
        b.Entity<ApiKey>(e =>
        {
            e.ToTable("api_keys");
            e.HasKey(k => k.Id);
            e.Property(k => k.Name).HasMaxLength(100).IsRequired();
            e.HasIndex(k => k.Name).IsUnique();
            e.Property(k => k.Prefix).HasMaxLength(16).IsRequired();
            e.Property(k => k.Hash).HasMaxLength(64).IsRequired();
            e.HasIndex(k => k.Hash).IsUnique();
            e.HasOne(k => k.Tenant).WithMany().HasForeignKey(k => k.TenantId).OnDelete(DeleteBehavior.Cascade);
            e.Property(k => k.Access).HasMaxLength(16).HasDefaultValue("full");
        });
        b.Entity<Tenant>(e =>
        {
            e.ToTable("tenants");
            e.HasKey(t => t.Id);
            e.Property(t => t.Name).HasMaxLength(63).IsRequired();
            e.HasIndex(t => t.Name).IsUnique();
        });
        b.Entity<RequestStat>(e =>
        {
            e.ToTable("request_stats");
            e.HasKey(s => s.Id);
            e.Property(s => s.AppName).HasMaxLength(63).IsRequired();
            e.HasIndex(s => new { s.AppName, s.Minute });
        });
        b.Entity<AppSecret>(e =>
        {
            e.ToTable("app_secrets");
            e.HasKey(x => x.Id);
            e.HasOne<App>().WithMany().HasForeignKey(x => x.AppId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(x => new { x.AppId, x.Name }).IsUnique();
            e.Property(x => x.Name).HasMaxLength(128).IsRequired();
            e.Property(x => x.Ciphertext).IsRequired();
        });
        b.Entity<DataProtectionKey>(e => e.ToTable("data_protection_keys"));
        b.Entity<AppLogEntry>(e =>
        {
            e.ToTable("app_logs");
            e.HasKey(l => l.Id);
            // Lines belong to the app row, not its name: a later app with the same name never sees them.
            e.HasOne<App>().WithMany().HasForeignKey(l => l.AppId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(l => new { l.AppId, l.Id });
            e.HasIndex(l => l.Time);
            e.Property(l => l.Component).HasMaxLength(128);
            e.Property(l => l.RequestId).HasMaxLength(64).IsRequired();
            e.Property(l => l.Router).HasMaxLength(128).IsRequired();
            e.Property(l => l.Stream).HasMaxLength(16).IsRequired();
            e.Property(l => l.Line).IsRequired();
        });
        b.Entity<RouteChange>(e =>
        {
            e.ToTable("route_changes");
            e.HasKey(c => c.Revision);
            // Revisions come from routing_state (the trigger), never from a sequence of this table.
            e.Property(c => c.Revision).ValueGeneratedNever();
            e.Property(c => c.AppName).HasMaxLength(63).IsRequired();
            e.HasIndex(c => c.ChangedAt);
        });
        b.Entity<RoutingState>(e =>
        {
            e.ToTable("routing_state");
            e.HasKey(s => s.Id);
            e.Property(s => s.Id).ValueGeneratedNever();
        });
    }
}
