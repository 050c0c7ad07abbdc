using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Platform.ControlPlane.Auth;
using Platform.ControlPlane.Configuration;
using Platform.ControlPlane.Services;
using Platform.Data;

namespace Platform.ControlPlane.Apis;

/// <summary>/api/v1/tenants: admins create tenants, set their quotas and delete them; a tenant key may read its own.</summary>
public static partial class TenantsApi
{
    public const int MaxNameLength = 63;

    /// <summary>Quota fields with the range each may take (null clears one: unlimited).</summary>
    private static readonly (string Field, long Min, long Max)[] s_quotaFields =
    [
        ("maxApps", 0, 1_000_000),
        ("maxStoredBytes", 0, long.MaxValue),
        ("maxMemoryLimitMb", 1, AppSettingsValidator.MaxMemoryLimitMb),
        ("maxTimeoutSeconds", 1, AppSettingsValidator.MaxTimeoutSeconds),
        ("maxCpuTimeLimitMs", 1, AppSettingsValidator.MaxCpuTimeLimitMs),
        ("maxConcurrency", 1, AppSettingsValidator.MaxConcurrency),
    ];

    public static RouteGroupBuilder MapTenantsApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1/tenants").WithTags("Tenants").RequireAuthorization();
        api.MapPost("/", CreateTenant).RequireAuthorization(AuthSchemes.AdminPolicy).WithName("CreateTenant")
            .WithSummary("Create a tenant, optionally with quotas (admin)");
        api.MapGet("/", ListTenants).RequireAuthorization(AuthSchemes.AdminPolicy).WithName("ListTenants")
            .WithSummary("List tenants with their quotas and usage (admin)");
        api.MapGet("/{name}", GetTenant).WithName("GetTenant")
            .WithSummary("Show a tenant's quotas and usage (admin, or a key of that tenant)");
        api.MapPatch("/{name}", UpdateTenant).RequireAuthorization(AuthSchemes.AdminPolicy).WithName("UpdateTenant")
            .WithSummary("Change a tenant's quotas (admin); a field set to null removes that quota, absent fields stay")
            // Limits are capped by quotas in the routing table: a lowered one reaches routers now.
            .ChangesRoutes();
        api.MapDelete("/{name}", DeleteTenant).RequireAuthorization(AuthSchemes.AdminPolicy).WithName("DeleteTenant")
            .WithSummary("Delete a tenant that has no apps, and its keys (admin)");
        return api;
    }

    public static async Task<Results<Created<TenantResponse>, ProblemHttpResult>> CreateTenant(
        CreateTenantRequest request, PlatformDbContext db, TimeProvider clock, ILogger<TenantsApiLogCategory> logger, CancellationToken cancellationToken)
    {
        if (ValidateName(request.Name) is { } nameError)
        {
            return Problems.Validation(nameError, "name", request.Name);
        }
        var tenant = new Tenant { Id = Guid.CreateVersion7(), Name = request.Name!, CreatedAt = clock.GetUtcNow() };
        var given = new Dictionary<string, long?>
        {
            ["maxApps"] = request.MaxApps,
            ["maxStoredBytes"] = request.MaxStoredBytes,
            ["maxMemoryLimitMb"] = request.MaxMemoryLimitMb,
            ["maxTimeoutSeconds"] = request.MaxTimeoutSeconds,
            ["maxCpuTimeLimitMs"] = request.MaxCpuTimeLimitMs,
            ["maxConcurrency"] = request.MaxConcurrency,
        };
        foreach (var (field, value) in given)
        {
            if (value is { } v && Apply(tenant, field, v) is { } quotaError)
            {
                return quotaError;
            }
        }
        db.Tenants.Add(tenant);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            return Problems.Create(StatusCodes.Status409Conflict, "tenant-exists", "Tenant exists", $"A tenant named '{request.Name}' already exists.");
        }
        logger.TenantCreated(tenant.Name);
        return TypedResults.Created($"/api/v1/tenants/{tenant.Name}", new TenantResponse(tenant.Name, tenant.CreatedAt, tenant.Quotas(), new TenantUsage(0, 0, 0)));
    }

    public static async Task<Ok<List<TenantResponse>>> ListTenants(PlatformDbContext db, CancellationToken cancellationToken)
    {
        var tenants = await db.Tenants.AsNoTracking().OrderBy(t => t.Name).ToListAsync(cancellationToken);
        var apps = await db.Apps.GroupBy(a => a.TenantId).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(x => x.Key, x => x.Count, cancellationToken);
        var bytes = await db.AppVersions.GroupBy(v => v.App!.TenantId).Select(g => new { g.Key, Sum = g.Sum(v => v.SizeBytes) })
            .ToDictionaryAsync(x => x.Key, x => x.Sum, cancellationToken);
        var keys = await db.ApiKeys.Where(k => k.TenantId != null).GroupBy(k => k.TenantId!.Value).Select(g => new { g.Key, Count = g.Count() })
            .ToDictionaryAsync(x => x.Key, x => x.Count, cancellationToken);
        return TypedResults.Ok(tenants.Select(t => new TenantResponse(t.Name, t.CreatedAt, t.Quotas(),
            new TenantUsage(apps.GetValueOrDefault(t.Id), bytes.GetValueOrDefault(t.Id), keys.GetValueOrDefault(t.Id)))).ToList());
    }

    public static async Task<Results<Ok<TenantResponse>, ProblemHttpResult>> GetTenant(
        string name, ClaimsPrincipal user, PlatformDbContext db, TenantQuotas quotas, CancellationToken cancellationToken)
    {
        var caller = Caller.From(user);
        // Another tenant is answered like one that does not exist.
        var tenant = caller.IsAdmin || caller.TenantName == name
            ? await db.Tenants.AsNoTracking().FirstOrDefaultAsync(t => t.Name == name, cancellationToken)
            : null;
        return tenant is null ? TenantNotFound(name) : TypedResults.Ok(await ToResponseAsync(tenant, db, quotas, cancellationToken));
    }

    /// <summary>A JSON object of quota fields: a number sets one, null removes it, an absent field stays as it is.</summary>
    public static async Task<Results<Ok<TenantResponse>, ProblemHttpResult>> UpdateTenant(
        string name, JsonElement body, PlatformDbContext db, TenantQuotas quotas, CancellationToken cancellationToken)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            return Problems.Validation($"The body must be a JSON object of quota fields ({string.Join(", ", s_quotaFields.Select(q => q.Field))}); got {body.ValueKind}.");
        }
        var tenant = await db.Tenants.FirstOrDefaultAsync(t => t.Name == name, cancellationToken);
        if (tenant is null)
        {
            return TenantNotFound(name);
        }
        foreach (var property in body.EnumerateObject())
        {
            var field = s_quotaFields.FirstOrDefault(q => q.Field.Equals(property.Name, StringComparison.OrdinalIgnoreCase)).Field;
            if (field is null)
            {
                return Problems.Validation($"'{property.Name}' is not a quota; use {string.Join(", ", s_quotaFields.Select(q => q.Field))}.", property.Name, property.Name);
            }
            if (property.Value.ValueKind == JsonValueKind.Null)
            {
                Clear(tenant, field);
                continue;
            }
            if (property.Value.ValueKind != JsonValueKind.Number || !property.Value.TryGetInt64(out var value))
            {
                return Problems.Validation($"{field} '{property.Value.GetRawText()}' is not a whole number or null.", field, property.Value.GetRawText());
            }
            if (Apply(tenant, field, value) is { } problem)
            {
                return problem;
            }
        }
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(await ToResponseAsync(tenant, db, quotas, cancellationToken));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteTenant(
        string name, PlatformDbContext db, ILogger<TenantsApiLogCategory> logger, CancellationToken cancellationToken)
    {
        var tenant = await db.Tenants.FirstOrDefaultAsync(t => t.Name == name, cancellationToken);
        if (tenant is null)
        {
            return TenantNotFound(name);
        }
        if (tenant.Id == Tenant.DefaultId)
        {
            return Problems.Create(StatusCodes.Status409Conflict, "tenant-is-default", "Default tenant",
                $"Tenant '{name}' is the default tenant (where apps go when no tenant is named) and cannot be deleted.");
        }
        var apps = await db.Apps.CountAsync(a => a.TenantId == tenant.Id, cancellationToken);
        if (apps > 0)
        {
            return Problems.Create(StatusCodes.Status409Conflict, "tenant-has-apps", "Tenant has apps",
                $"Tenant '{name}' still has {apps} app(s); delete them first.", new Dictionary<string, object?> { ["apps"] = apps });
        }
        db.Tenants.Remove(tenant);
        try
        {
            // Its keys go with it (cascade); an app created meanwhile makes the foreign key refuse.
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.ForeignKeyViolation })
        {
            return Problems.Create(StatusCodes.Status409Conflict, "tenant-has-apps", "Tenant has apps", $"Tenant '{name}' got an app meanwhile; delete it first.");
        }
        logger.TenantDeleted(name);
        return TypedResults.NoContent();
    }

    /// <summary>
    /// The tenant a request acts in: the one it names (admins: any; tenant keys: only their own, any other is answered
    /// as unknown) or, when none is named, the caller's own (admins: the default tenant).
    /// </summary>
    public static async Task<(Tenant? Tenant, ProblemHttpResult? Problem)> ResolveForCallerAsync(
        Caller caller, string? requested, PlatformDbContext db, CancellationToken cancellationToken)
    {
        Tenant? tenant;
        if (caller.IsAdmin)
        {
            tenant = requested is null
                ? await db.Tenants.FirstOrDefaultAsync(t => t.Id == Tenant.DefaultId, cancellationToken)
                : await db.Tenants.FirstOrDefaultAsync(t => t.Name == requested, cancellationToken);
        }
        else
        {
            tenant = caller.TenantId is { } own && (requested is null || requested == caller.TenantName)
                ? await db.Tenants.FirstOrDefaultAsync(t => t.Id == own, cancellationToken)
                : null;
        }
        return tenant is null
            ? (null, Problems.Validation($"No tenant is named '{requested ?? Tenant.DefaultName}'.", "tenant", requested))
            : (tenant, null);
    }

    public static string? ValidateName(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "A tenant name is required.";
        }
        if (name.Length < 2 || name.Length > MaxNameLength || !Label().IsMatch(name))
        {
            return $"Tenant name '{name}' must be 2-{MaxNameLength} characters: lower-case letters a-z, digits and '-', starting and ending with a letter or digit.";
        }
        return null;
    }

    private static async Task<TenantResponse> ToResponseAsync(Tenant tenant, PlatformDbContext db, TenantQuotas quotas, CancellationToken cancellationToken)
    {
        var apps = await db.Apps.CountAsync(a => a.TenantId == tenant.Id, cancellationToken);
        var keys = await db.ApiKeys.CountAsync(k => k.TenantId == tenant.Id, cancellationToken);
        var bytes = await quotas.StoredBytesAsync(tenant.Id, cancellationToken);
        return new TenantResponse(tenant.Name, tenant.CreatedAt, tenant.Quotas(), new TenantUsage(apps, bytes, keys));
    }

    private static ProblemHttpResult? Apply(Tenant tenant, string field, long value)
    {
        var (_, min, max) = s_quotaFields.First(q => q.Field == field);
        if (value < min || value > max)
        {
            return Problems.Validation($"{field} {value.ToString(CultureInfo.InvariantCulture)} is out of range {min}-{max}.", field, value);
        }
        switch (field)
        {
            case "maxApps": tenant.MaxApps = (int)value; break;
            case "maxStoredBytes": tenant.MaxStoredBytes = value; break;
            case "maxMemoryLimitMb": tenant.MaxMemoryLimitMb = (int)value; break;
            case "maxTimeoutSeconds": tenant.MaxTimeoutSeconds = (int)value; break;
            case "maxCpuTimeLimitMs": tenant.MaxCpuTimeLimitMs = (int)value; break;
            default: tenant.MaxConcurrency = (int)value; break;
        }
        return null;
    }

    private static void Clear(Tenant tenant, string field)
    {
        switch (field)
        {
            case "maxApps": tenant.MaxApps = null; break;
            case "maxStoredBytes": tenant.MaxStoredBytes = null; break;
            case "maxMemoryLimitMb": tenant.MaxMemoryLimitMb = null; break;
            case "maxTimeoutSeconds": tenant.MaxTimeoutSeconds = null; break;
            case "maxCpuTimeLimitMs": tenant.MaxCpuTimeLimitMs = null; break;
            default: tenant.MaxConcurrency = null; break;
        }
    }

    private static ProblemHttpResult TenantNotFound(string name) =>
        Problems.Create(StatusCodes.Status404NotFound, "tenant-not-found", "Tenant not found", $"No tenant is named '{name}'.");

    [GeneratedRegex(@"^[a-z0-9]([a-z0-9-]*[a-z0-9])?\z", RegexOptions.CultureInvariant)]
    private static partial Regex Label();
}
