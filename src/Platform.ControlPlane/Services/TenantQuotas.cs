using Microsoft.EntityFrameworkCore;
using Platform.Data;

namespace Platform.ControlPlane.Services;

/// <summary>A quota a request would exceed: its name (the tenant field), what the request would make it, and the maximum.</summary>
/// <param name="Current">What the tenant holds now (apps, stored bytes); null for a limit an app asks for.</param>
public sealed record QuotaViolation(string Quota, long Requested, long Maximum, long? Current, string Detail);

/// <summary>Checks requests against a tenant's quotas; the API layer turns a violation into a problem.</summary>
public sealed class TenantQuotas(PlatformDbContext db)
{
    /// <summary>The limits an app asks for (null: unchanged or the platform default, which <see cref="Effective"/> caps).</summary>
    public static QuotaViolation? CheckLimits(Tenant tenant, int? memoryLimitMb, int? timeoutSeconds, int? cpuTimeLimitMs, int? maxConcurrency) =>
        Over(tenant, "maxMemoryLimitMb", "memoryLimitMb", memoryLimitMb, tenant.MaxMemoryLimitMb)
        ?? Over(tenant, "maxTimeoutSeconds", "timeoutSeconds", timeoutSeconds, tenant.MaxTimeoutSeconds)
        ?? Over(tenant, "maxCpuTimeLimitMs", "cpuTimeLimitMs", cpuTimeLimitMs, tenant.MaxCpuTimeLimitMs)
        ?? Over(tenant, "maxConcurrency", "maxConcurrency", maxConcurrency, tenant.MaxConcurrency);

    private static QuotaViolation? Over(Tenant tenant, string quota, string field, int? asked, int? max) =>
        asked is { } a && max is { } m && a > m
            ? new QuotaViolation(quota, a, m, null, $"{field} {a} is over tenant '{tenant.Name}''s quota {quota} of {m}.")
            : null;

    /// <summary>What an app runs with: its own setting or the platform default, never above the tenant's quota (a lowered quota applies at once).</summary>
    public static int Effective(int? appValue, int platformDefault, int? quota) =>
        Math.Min(appValue ?? platformDefault, quota ?? int.MaxValue);

    public static int? EffectiveOptional(int? appValue, int? quota) =>
        appValue is null ? quota : Math.Min(appValue.Value, quota ?? int.MaxValue);

    /// <summary>
    /// Serialises quota checks of one tenant (across control-plane replicas too) until the caller's transaction ends,
    /// so two requests cannot both take the last app or the last bytes.
    /// </summary>
    public Task LockAsync(Guid tenantId, CancellationToken cancellationToken) =>
        db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtextextended({"tenant:" + tenantId}, 0))", cancellationToken);

    public async Task<QuotaViolation?> CheckAppCountAsync(Tenant tenant, CancellationToken cancellationToken)
    {
        if (tenant.MaxApps is not { } max)
        {
            return null;
        }
        var count = await db.Apps.CountAsync(a => a.TenantId == tenant.Id, cancellationToken);
        return count + 1 > max
            ? new QuotaViolation("maxApps", count + 1, max, count, $"Tenant '{tenant.Name}' has {count} app(s); its quota maxApps is {max}.")
            : null;
    }

    /// <summary>Stored bytes: every version of every app of the tenant, plus the one being added.</summary>
    public async Task<QuotaViolation?> CheckStorageAsync(Guid tenantId, long addedBytes, CancellationToken cancellationToken)
    {
        var tenant = await db.Tenants.AsNoTracking().Where(t => t.Id == tenantId).Select(t => new { t.Name, t.MaxStoredBytes }).FirstOrDefaultAsync(cancellationToken);
        if (tenant?.MaxStoredBytes is not { } max)
        {
            return null;
        }
        var stored = await StoredBytesAsync(tenantId, cancellationToken);
        return stored + addedBytes > max
            ? new QuotaViolation("maxStoredBytes", stored + addedBytes, max, stored,
                $"Tenant '{tenant.Name}' stores {stored} bytes; {addedBytes} more would be over its quota maxStoredBytes of {max}.")
            : null;
    }

    public Task<long> StoredBytesAsync(Guid tenantId, CancellationToken cancellationToken) =>
        db.AppVersions.Where(v => v.App!.TenantId == tenantId).SumAsync(v => v.SizeBytes, cancellationToken);
}
